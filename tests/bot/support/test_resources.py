"""Support lines: the shipped file, rendering per nation and language, reviews and errors."""

from __future__ import annotations

from datetime import date
from textwrap import dedent

import pytest
from pydantic import ValidationError

from bot.support.resources import (
    MAX_LENGTH,
    NATIONS,
    Resource,
    SupportError,
    SupportFile,
    load_support,
    load_support_text,
    render_support,
    review_warning,
    shipped_support_path,
)

URGENT_NUMBERS = ["999", "116 123", "85258", "111"]
ALL_NUMBERS = [*URGENT_NUMBERS, "0808 164 0123", "0800 83 85 87", "0808 808 8000"]
LIFELINE = "0808 808 8000"
BREATHING_SPACE = "0800 83 85 87"
WELSH_LINE = "0808 164 0123"

SMALL = """\
reviewed: 2026-01-10
reviewed_by: Sam Smith
nations:
  uk:
    - id: emergency
      name: Emergency
      how: call 999
      when: in an emergency
      urgent: true
"""


@pytest.fixture(scope="module")
def shipped() -> SupportFile:
    return load_support()


def write(tmp_path, text: str):
    path = tmp_path / "support.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return path


def error_for(tmp_path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(SupportError) as caught:
        load_support(path)
    return str(caught.value)


def positions(text: str, needles: list[str]) -> list[int]:
    return [text.index(needle) for needle in needles]


def test_load_support_shipped_file_loads(shipped):
    assert shipped.source == str(shipped_support_path())
    assert shipped_support_path().is_file()
    assert set(shipped.nations) == set(NATIONS)
    assert shipped.reviewed == date(2026, 11, 28)
    assert "safeguarding lead" in shipped.reviewed_by


def test_load_support_default_is_the_shipped_file(shipped):
    assert load_support(shipped_support_path()) == shipped


def test_shipped_file_has_the_exact_numbers(shipped):
    everything = "\n".join(render_support(shipped, nation) for nation in NATIONS)
    for number in ALL_NUMBERS:
        assert number in everything
    assert "text SHOUT to 85258" in everything
    assert "A&E" in everything
    assert "option 2" in render_support(shipped, "england")
    assert "press 2" in render_support(shipped, "wales")
    assert "NHS 24" in render_support(shipped, "scotland")


def test_render_support_uk_wide_shows_urgent_options_in_order(shipped):
    text = render_support(shipped, None)
    assert text.startswith("• Emergency: call 999")
    found = positions(text, URGENT_NUMBERS)
    assert found == sorted(found)
    assert BREATHING_SPACE not in text
    assert WELSH_LINE not in text


@pytest.mark.parametrize(
    ("nation", "shown", "hidden"),
    [
        ("england", ["option 2"], [BREATHING_SPACE, LIFELINE, WELSH_LINE, "NHS 24"]),
        ("wales", [WELSH_LINE, "press 2"], [BREATHING_SPACE, LIFELINE, "option 2"]),
        ("scotland", [BREATHING_SPACE, "NHS 24"], [LIFELINE, WELSH_LINE, "option 2"]),
        ("northern-ireland", [LIFELINE], [BREATHING_SPACE, WELSH_LINE, "call 111"]),
    ],
)
def test_render_support_nation_shows_uk_wide_and_that_nation_only(shipped, nation, shown, hidden):
    text = render_support(shipped, nation)
    assert text.startswith("• Emergency: call 999")
    for needle in ["116 123", "85258", *shown]:
        assert needle in text
    for needle in hidden:
        assert needle not in text


def test_render_support_nation_replaces_uk_wide_111_without_repeating_it(shipped):
    for nation in ("england", "wales", "scotland"):
        text = render_support(shipped, nation)
        assert text.count("call 111") == 1
        assert "In Northern Ireland" not in text


@pytest.mark.parametrize("nation", [None, *NATIONS])
def test_render_support_urgent_only_shows_urgent_options_first_and_nothing_else(shipped, nation):
    text = render_support(shipped, nation, urgent_only=True)
    lines = text.splitlines()
    assert lines[0].startswith("• Emergency: call 999")
    assert "116 123" in lines[1]
    assert "85258" in lines[2]
    last = LIFELINE if nation == "northern-ireland" else "111"
    assert last in lines[3]
    assert len(lines) == 4
    assert BREATHING_SPACE not in text
    assert WELSH_LINE not in text


def test_render_support_urgent_lines_come_before_others(shipped):
    lines = render_support(shipped, "scotland").splitlines()
    assert BREATHING_SPACE in lines[-1]
    assert lines[:4] == render_support(shipped, "scotland", urgent_only=True).splitlines()


@pytest.mark.parametrize("nation", ["atlantis", "uk", "", "  "])
def test_render_support_unknown_nation_falls_back_to_uk_wide(shipped, nation):
    assert render_support(shipped, nation) == render_support(shipped, None)


def test_render_support_nation_spelling_is_forgiving(shipped):
    assert render_support(shipped, "Northern Ireland") == render_support(
        shipped, "northern-ireland"
    )


@pytest.mark.parametrize("urgent_only", [False, True])
@pytest.mark.parametrize("language", ["en", "cy", "fr"])
@pytest.mark.parametrize("nation", [None, *NATIONS])
def test_render_support_is_plain_short_and_never_empty(shipped, nation, language, urgent_only):
    text = render_support(shipped, nation, language, urgent_only=urgent_only)
    lines = text.splitlines()
    assert lines
    assert all(line.startswith("• ") for line in lines)
    assert len(lines) == len(set(lines))
    assert len(text) <= MAX_LENGTH < 4096
    assert not any(mark in text for mark in ("<b>", "*", "_", "`", "["))


def test_render_support_welsh_uses_cy_text_where_given(shipped):
    welsh = render_support(shipped, "wales", "cy")
    assert "Llinell Gymraeg y Samariaid: ffoniwch 0808 164 0123" in welsh
    assert "Samaritans Welsh-language line" not in welsh
    # Texts without a Welsh version fall back to English.
    assert "• Samaritans: call 116 123" in welsh
    english = render_support(shipped, "wales", "en")
    assert "Samaritans Welsh-language line: call 0808 164 0123" in english


def test_render_support_welsh_reader_sees_the_welsh_line_wherever_they_live(shipped):
    assert "Llinell Gymraeg y Samariaid" in render_support(shipped, None, "cy")
    assert "Llinell Gymraeg y Samariaid" in render_support(shipped, "scotland", "cy")
    assert WELSH_LINE not in render_support(shipped, "scotland", "en")


def test_render_support_many_long_lines_stay_under_the_limit():
    item = {
        "id": "x",
        "name": "N" * 200,
        "how": "H" * 200,
        "when": "W" * 200,
        "notes": "O" * 200,
        "urgent": True,
    }
    uk = [Resource.model_validate({**item, "id": f"line-{i}"}) for i in range(10)]
    support = SupportFile.model_construct(
        reviewed=date(2026, 1, 1), reviewed_by="x", nations={"uk": uk}
    )
    text = render_support(support, None)
    assert 0 < len(text) <= MAX_LENGTH


def test_review_warning_none_when_fresh(shipped):
    assert review_warning(shipped, date(2026, 11, 28)) is None
    assert review_warning(shipped, date(2027, 5, 30)) is None  # 183 days on


def test_review_warning_one_line_when_older_than_six_months(shipped):
    warning = review_warning(shipped, date(2027, 5, 31))  # 184 days on
    assert warning is not None
    assert "\n" not in warning
    assert str(shipped_support_path()) in warning
    assert "2026-11-28" in warning
    assert "safeguarding lead" in warning


def test_review_warning_max_age_can_be_changed(tmp_path):
    support = load_support(write(tmp_path, SMALL))
    assert review_warning(support, date(2026, 2, 10), max_age_days=30) is not None
    assert review_warning(support, date(2026, 2, 9), max_age_days=30) is None


def test_review_warning_date_after_today(tmp_path):
    support = load_support(write(tmp_path, SMALL))
    warning = review_warning(support, date(2026, 1, 9))
    assert warning is not None
    assert "after today" in warning


def test_load_support_small_file_from_path(tmp_path):
    path = write(tmp_path, SMALL)
    support = load_support(path)
    assert support.source == str(path)
    assert render_support(support, "wales") == "• Emergency: call 999 (in an emergency)."


def test_load_support_syntax_error_names_file_and_line(tmp_path):
    message = error_for(tmp_path, SMALL.replace("name: Emergency", "name: [Emergency"))
    assert message.startswith(f"{tmp_path / 'support.yaml'}:")
    assert ":6:" in message or ":7:" in message or ":8:" in message


def test_load_support_missing_field_names_file_and_line(tmp_path):
    message = error_for(tmp_path, SMALL.replace("      when: in an emergency\n", ""))
    assert message.startswith(f"{tmp_path / 'support.yaml'}:5:")
    assert "nations.uk[0].when: is missing" in message


def test_load_support_bad_field_names_its_line(tmp_path):
    message = error_for(tmp_path, SMALL.replace("urgent: true", "urgent: maybe"))
    assert f"{tmp_path / 'support.yaml'}:9:" in message
    assert "urgent" in message


def test_load_support_unknown_key_names_its_line(tmp_path):
    message = error_for(tmp_path, SMALL.replace("      urgent: true", "      urgnet: true"))
    assert f"{tmp_path / 'support.yaml'}:9:" in message
    assert "not a known setting" in message


def test_load_support_unknown_nation_is_an_error(tmp_path):
    text = SMALL + "  cornwall:\n    - id: x\n      name: X\n      how: call 1\n"
    text += "      when: now\n      urgent: false\n"
    message = error_for(tmp_path, text)
    assert "'cornwall' is not a nation" in message
    assert f"{tmp_path / 'support.yaml'}:11:" in message


def test_load_support_duplicate_key_names_its_line(tmp_path):
    message = error_for(tmp_path, SMALL.replace("reviewed_by: Sam Smith", "reviewed: 2026-01-11"))
    assert f"{tmp_path / 'support.yaml'}:2:" in message
    assert "appears twice" in message


def test_load_support_bad_date_names_its_line(tmp_path):
    message = error_for(tmp_path, SMALL.replace("2026-01-10", "last spring"))
    assert f"{tmp_path / 'support.yaml'}:1:" in message
    assert "reviewed" in message


def test_load_support_replaces_unknown_id_names_its_line(tmp_path):
    text = SMALL + (
        "  wales:\n"
        "    - id: x\n"
        "      name: X\n"
        "      how: call 1\n"
        "      when: now\n"
        "      urgent: true\n"
        "      replaces: [nhs-111]\n"
    )
    message = error_for(tmp_path, text)
    assert f"{tmp_path / 'support.yaml'}:16:" in message
    assert "'nhs-111' is not the id of a 'uk' line" in message


def test_load_support_first_uk_line_must_be_urgent(tmp_path):
    message = error_for(tmp_path, SMALL.replace("urgent: true", "urgent: false"))
    assert f"{tmp_path / 'support.yaml'}:9:" in message
    assert "emergency" in message


def test_load_support_needs_uk_lines(tmp_path):
    message = error_for(tmp_path, "reviewed: 2026-01-10\nreviewed_by: x\nnations: {}\n")
    assert "needs a 'uk' list" in message


def test_load_support_duplicate_id_names_its_line(tmp_path):
    text = SMALL + SMALL.split("  uk:\n")[1]
    message = error_for(tmp_path, text)
    assert f"{tmp_path / 'support.yaml'}:10:" in message
    assert "appears twice" in message


def test_load_support_missing_file_names_it(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(SupportError, match=r"nowhere\.yaml:1: error: cannot read the file"):
        load_support(path)


def test_load_support_not_a_mapping(tmp_path):
    assert "must be a YAML mapping" in error_for(tmp_path, "- just a list\n")


def test_load_support_text_reports_every_problem():
    text = SMALL.replace("      when: in an emergency\n", "").replace("call 999", "[1, 2]")
    with pytest.raises(SupportError) as caught:
        load_support_text(text, "x.yaml")
    assert len(caught.value.problems) == 2


def test_support_file_built_in_code_is_checked_too():
    emergency = Resource(id="e", name="E", how="call 999", when="now", urgent=False)
    with pytest.raises(ValidationError, match="emergency"):
        SupportFile(reviewed=date(2026, 1, 1), reviewed_by="x", nations={"uk": [emergency]})


def test_support_file_is_frozen(shipped):
    with pytest.raises(ValidationError):
        shipped.reviewed_by = "someone else"


def test_load_support_uk_line_cannot_replace(tmp_path):
    message = error_for(tmp_path, SMALL + "      replaces: [emergency]\n")
    assert f"{tmp_path / 'support.yaml'}:10:" in message
    assert "only a nation's line can replace" in message


def test_load_support_refuses_a_list_too_long_for_a_phone(tmp_path):
    long = "x" * 200
    extra = "".join(
        f"    - {{id: l{i}, name: {long}, how: {long}, when: {long}, urgent: false}}\n"
        for i in range(6)
    )
    message = error_for(tmp_path, SMALL + extra)
    assert f"{tmp_path / 'support.yaml'}:4:" in message
    assert "read on a phone" in message
