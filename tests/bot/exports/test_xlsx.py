"""The streaming workbook writer, read back with openpyxl (normal and read-only) cell by cell."""

import re
import struct
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils.datetime import to_excel

from bot.exports import xlsx
from bot.exports.codebook import safe

WELSH = "Roedd y staff yn garedig iawn 💚 — diolch"
WHEN = datetime(2026, 5, 4, 9, 30, 15)


def written(path, rows, header=("a", "b", "c"), widths=(10, 12, 14)):
    book = xlsx.Workbook(path)
    sheet = book.sheet("Rows", header, widths)
    for row in rows:
        sheet.append(row)
    book.close()
    return path


def read_back(path, title="Rows"):
    """Return a sheet's rows as values, read in normal mode and in read-only mode alike."""
    normal = [list(row) for row in load_workbook(path)[title].values]
    fast = load_workbook(path, read_only=True)
    try:
        streamed = [list(row) for row in fast[title].iter_rows(values_only=True)]
    finally:
        fast.close()
    assert streamed == normal
    return normal


def test_xlsx_cells_read_back_as_written(tmp_path):
    rows = [
        ["plain", WELSH, "<b>bold & \"quoted\" 'too'</b>"],
        [safe('=HYPERLINK("x")'), safe("+44 7700 900000"), safe("@home")],
        ["  spaced  ", "line one\nline two", "carriage\r\nreturn\ttab"],
        [0, -3, 12345678901],
        [2.5, -0.125, 1e-7],
        [True, False, None],
        [None, "", "after two empty cells"],
        [WHEN, WHEN.replace(tzinfo=UTC), None],
    ]
    values = read_back(written(tmp_path / "cells.xlsx", rows))
    assert values[0] == ["a", "b", "c"]
    assert values[1:7] == rows[:6]
    assert values[7] == [None, None, "after two empty cells"]
    assert values[8] == [WHEN, WHEN, None]
    assert values[2][0] == '\'=HYPERLINK("x")'  # neutralised upstream: text, not a formula
    with zipfile.ZipFile(tmp_path / "cells.xlsx") as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")


def test_xlsx_dates_carry_the_date_format_and_an_aware_time_is_taken_as_utc(tmp_path):
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    path = written(tmp_path / "dates.xlsx", [[WHEN, summer, datetime(2026, 7, 1, 9, 0, 0, 1000)]])
    sheet = load_workbook(path)["Rows"]
    assert [cell.number_format for cell in sheet[2]] == [xlsx.DATE_FORMAT] * 3
    assert [cell.value for cell in sheet[2]] == [
        WHEN,
        datetime(2026, 7, 1, 9, 0),
        datetime(2026, 7, 1, 9, 0, 0, 1000),
    ]
    assert xlsx.serial(WHEN) == pytest.approx(to_excel(WHEN), abs=1e-9)
    assert xlsx.serial(datetime(1900, 3, 1)) == 61


def test_xlsx_header_is_bold_and_frozen_with_column_widths(tmp_path):
    path = written(tmp_path / "look.xlsx", [["x", 1, WHEN]])
    sheet = load_workbook(path)["Rows"]
    assert sheet.freeze_panes == "A2"
    assert [cell.font.b for cell in sheet[1]] == [True, True, True]
    assert [cell.font.b for cell in sheet[2]] == [False, False, False]
    widths = [sheet.column_dimensions[letter].width for letter in "ABC"]
    assert widths == [10, 12, 14]


def test_xlsx_replaces_characters_xml_cannot_hold(tmp_path):
    rows = [["bell\x07 and nul\x00", "lone \ud800 surrogate", "not a character \uffff"]]
    path = written(tmp_path / "control.xlsx", rows)
    with zipfile.ZipFile(path) as archive:
        ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    assert read_back(path)[1] == [
        "bell\ufffd and nul\ufffd",
        "lone \ufffd surrogate",
        "not a character \ufffd",
    ]


def test_xlsx_escapes_text_excel_would_read_as_an_escaped_character(tmp_path):
    # Excel reads "_x0041_" in a cell's text as "A": such text is written "_x005F_x0041_".
    path = tmp_path / "escape.xlsx"
    book = xlsx.Workbook(path)
    sheet = book.sheet("Rows", ["a", "b"], [10, 10])
    sheet.append_cells(xlsx.text("typed _x0041_") + book.shared("shared _x0041_"))
    book.close()
    with zipfile.ZipFile(path) as archive:
        assert b"typed _x005F_x0041_" in archive.read("xl/worksheets/sheet1.xml")
        assert b"shared _x005F_x0041_" in archive.read("xl/sharedStrings.xml")
    # openpyxl undoes the escape in shared strings (in inline ones, it leaves it as written).
    assert load_workbook(path)["Rows"]["B2"].value == "shared _x0041_"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(exclude_characters="_")), min_size=1, max_size=4))
def test_xlsx_any_text_reads_back_with_only_forbidden_characters_replaced(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("text") / "any.xlsx"
    book = xlsx.Workbook(path)
    sheet = book.sheet("Rows", [f"c{n}" for n in range(len(texts))], [10] * len(texts))
    sheet.append(texts)
    sheet.append_cells("".join(book.shared(text) for text in texts))
    book.close()
    forbidden = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
    expected = [forbidden.sub("\ufffd", text) or None for text in texts]
    assert read_back(path)[1:] == [expected, expected]


def test_xlsx_writes_many_rows_as_a_stream(tmp_path):
    path = tmp_path / "many.xlsx"
    book = xlsx.Workbook(path)
    sheet = book.sheet("Rows", ["n", "text", "when"], [8, 8, 8])
    for n in range(30_000):
        sheet.append([n, f"row {n} " + "x" * 40, WHEN + timedelta(minutes=n)])
    book.close()
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 2 * xlsx.CHUNK
    rows = read_back(path)
    assert len(rows) == 30_001
    assert rows[-1] == [29_999, "row 29999 " + "x" * 40, WHEN + timedelta(minutes=29_999)]


def test_xlsx_spooled_sheet_keeps_its_place_and_its_rows(tmp_path):
    path = tmp_path / "two.xlsx"
    book = xlsx.Workbook(path)
    first = book.sheet("First", ["run"], [10], spooled=True)
    second = book.sheet("Second", ["answer"], [10])
    third = book.sheet("Third", ["meanwhile"], [10])  # the file is busy: spooled too
    assert (first.spooled, second.spooled, third.spooled) == (True, False, True)
    for n in range(3):
        first.append([n])
        second.append([f"answer {n}"])
        third.append([n * 10])
    second.close()
    fourth = book.sheet("Fourth", ["after"], [10])  # the file is free again
    assert not fourth.spooled
    fourth.append(["last"])
    book.close()
    assert load_workbook(path).sheetnames == ["First", "Second", "Third", "Fourth"]
    assert read_back(path, "First") == [["run"], [0], [1], [2]]
    assert read_back(path, "Second") == [["answer"], ["answer 0"], ["answer 1"], ["answer 2"]]
    assert read_back(path, "Third") == [["meanwhile"], [0], [10], [20]]
    assert read_back(path, "Fourth") == [["after"], ["last"]]


def test_xlsx_parts_parse_and_content_types_name_every_part(tmp_path):
    path = tmp_path / "parts.xlsx"
    book = xlsx.Workbook(path)
    book.sheet("One", ["a"], [10]).append(["x"])
    book.sheet("Two & more", ["b"], [10]).append([book.shared("x") and "y"])
    book.close()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        trees = {name: ElementTree.fromstring(archive.read(name)) for name in names}
    assert zipfile.is_zipfile(path)
    types = trees["[Content_Types].xml"]
    namespace = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    overrides = {e.get("PartName") for e in types.iter(f"{namespace}Override")}
    defaults = {e.get("Extension") for e in types.iter(f"{namespace}Default")}
    for name in names:
        assert f"/{name}" in overrides or name.rsplit(".", 1)[-1] in defaults
    assert {f"/{name}" for name in names if name.endswith(".xml")} - {"/[Content_Types].xml"} == (
        overrides
    )
    assert load_workbook(path).sheetnames == ["One", "Two & more"]


def test_xlsx_shared_text_is_kept_once(tmp_path):
    path = tmp_path / "shared.xlsx"
    book = xlsx.Workbook(path)
    sheet = book.sheet("Rows", ["a", "b"], [10, 10])
    assert book.shared("Yes") == book.shared("Yes")
    assert book.shared("") == xlsx.EMPTY
    for _ in range(3):
        sheet.append_cells(book.shared("Yes") + book.shared("No"))
    book.close()
    with zipfile.ZipFile(path) as archive:
        table = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
    assert [element.text for element in table.iter() if element.tag.endswith("}t")] == [
        "a",
        "b",
        "Yes",
        "No",
    ]
    assert read_back(path)[1:] == [["Yes", "No"]] * 3


def test_xlsx_numbers_that_are_not_finite_are_written_as_text():
    assert xlsx.number(float("inf")) == xlsx.text("inf")
    assert xlsx.number(float("nan")) == xlsx.text("nan")
    assert xlsx.cell(1.5) == "<c><v>1.5</v></c>"


def test_xlsx_refuses_what_it_cannot_write(tmp_path):
    book = xlsx.Workbook(tmp_path / "refused.xlsx")
    with pytest.raises(ValueError, match="cannot name"):
        book.sheet("Questions?", ["a"], [10])
    with pytest.raises(ValueError, match="cannot name"):
        book.sheet("x" * 32, ["a"], [10])
    book.sheet("Rows", ["a"], [10])
    with pytest.raises(ValueError, match="already"):
        book.sheet("rows", ["a"], [10])
    with pytest.raises(TypeError, match="cannot hold list"):
        xlsx.cell([1, 2])  # type: ignore[arg-type]
    book.close()


def test_xlsx_abort_leaves_no_temporary_file_open(tmp_path):
    book = xlsx.Workbook(tmp_path / "aborted.xlsx")
    spooled = book.sheet("Spooled", ["a"], [10], spooled=True)
    direct = book.sheet("Direct", ["b"], [10])
    spooled.append(["x"])
    direct.append(["y"])
    book.abort()
    assert spooled._file.closed
    assert direct._file.closed


def test_xlsx_parts_have_plain_zip_headers_as_excel_expects(tmp_path):
    # Excel refuses ZIP64 records and data descriptors on parts too small to need them.
    path = written(tmp_path / "headers.xlsx", [[n, f"row {n}"] for n in range(5000)])
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        for info in archive.infolist():
            raw.seek(info.header_offset)
            header = struct.unpack("<4sHHHHHIIIHH", raw.read(30))
            signature, version, flags, method = header[:4]
            assert (signature, method) == (b"PK\x03\x04", zipfile.ZIP_DEFLATED)
            assert version < 45, info.filename  # 4.5 is ZIP64's
            assert not flags & 0x08, info.filename  # no data descriptor after the data
            assert header[-1] == 0, info.filename  # no extra field: no ZIP64 record
            assert header[7:9] == (info.compress_size, info.file_size)
