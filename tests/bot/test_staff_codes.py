"""Staff codes: stable for a person with the key beside the database, owner-only, unguessable."""

import stat

import pytest

from bot.staff_codes import StaffCodeError, StaffCodes, key_path


def test_staff_codes_hold_across_restarts_with_the_key_beside_the_database(tmp_path):
    database = tmp_path / "heard.db"
    first = StaffCodes.beside(database)
    code = first.code(987_654_321)
    assert code.startswith("S-")
    assert len(code) == 8
    assert "987654321" not in code
    assert StaffCodes.beside(database).code(987_654_321) == code
    assert stat.S_IMODE(key_path(database).stat().st_mode) == 0o600


def test_staff_codes_differ_between_people_and_between_keys():
    codes = StaffCodes(b"k" * 32)  # fixed keys: the same codes every run
    assert len({codes.code(user_id) for user_id in range(1000, 1200)}) == 200
    assert StaffCodes(b"j" * 32).code(1000) != codes.code(1000)


def test_staff_codes_a_broken_key_file_is_named(tmp_path):
    database = tmp_path / "heard.db"
    key_path(database).write_bytes(b"short")
    with pytest.raises(StaffCodeError, match=r"heard\.db\.key: shorter than 32 bytes"):
        StaffCodes.beside(database)
