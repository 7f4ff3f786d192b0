"""A streaming Excel workbook writer (Office Open XML, ECMA-376), written by hand.

Only what Heard's exports need: sheets with a bold, frozen header row and column widths; cells
of text, numbers, booleans and dates. Each row is turned into XML as it is appended, and the
XML is compressed into the file a megabyte at a time, so memory stays flat however many rows
there are. (Compressing in a thread of its own saved under 0.02 s of 0.5 s: not done.)

A cell is its XML, a string: made once and reused where it repeats. `Workbook.shared` makes a
cell of text that repeats, kept once in the workbook's shared strings; `text`, `number`,
`boolean`, `date` and `cell` make the others. A row is its cells' XML joined, or its values.

A zip file is written one part at a time, so a sheet made while another is being written, or
asked to be spooled, goes to a temporary file first and is copied in when the workbook closes.
"""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from storage.private_files import create_private

NORMAL, BOLD, DATE = 0, 1, 2  # the cell styles (cellXfs) in styles.xml
DATE_FORMAT = "yyyy-mm-dd hh:mm"
EMPTY = "<c/>"
CHUNK = 1 << 20  # characters of XML gathered before they are compressed into the file
LEVEL = 3  # deflate level: as quick as 1 on this XML, a sixth smaller; 6 takes 2.5 times as long
EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's 1900 date system, as it counts from March 1900
DAY = timedelta(days=1)
Value = str | int | float | datetime | None

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "application/vnd.openxmlformats-officedocument"
_TYPE = f"{_OFFICE}.spreadsheetml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# What XML cannot hold as it is: markup, carriage returns (read back as line feeds), and the
# characters XML 1.0 forbids, lone surrogates among them. Excel reads "_x0041_" as "A", so
# text that looks like that is escaped too.
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_EXCEL_ESCAPE = re.compile("_x[0-9A-Fa-f]{4}_")
_SPACES = " \t\n\r"
_SHEET_NAME = re.compile(r"[^\[\]:*?/\\]{1,31}")


def text(value: str) -> str:
    """Return a cell holding text in the row itself: for text that rarely repeats."""
    if not value:
        return EMPTY
    return f'<c t="inlineStr"><is>{_t(value)}</is></c>'


def number(value: int | float) -> str:
    """Return a cell holding a number (a float that is not finite as text: Excel has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        return text(str(value))
    return f"<c><v>{value}</v></c>"


def boolean(value: bool) -> str:
    """Return a cell holding TRUE or FALSE."""
    return f'<c t="b"><v>{int(value)}</v></c>'


def date(serial: float) -> str:
    """Return a cell holding a time, given as a day number (see `serial`), in the date style."""
    return f'<c s="{DATE}"><v>{serial}</v></c>'


def serial(moment: datetime) -> float:
    """Return a time as Excel counts it: days since 1899-12-30; an aware time is taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - EPOCH) / DAY


def cell(value: Value) -> str:
    """Return a cell holding a value: text inline, None empty, a time in the date style."""
    if value is None:
        return EMPTY
    kind = type(value)
    if kind is int:
        return f"<c><v>{value}</v></c>"
    if kind is str:
        return text(value)  # type: ignore[arg-type]  # narrowed by the line above
    if isinstance(value, bool):
        return boolean(value)
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, datetime):
        return date(serial(value))
    if isinstance(value, str):
        return text(value)
    raise TypeError(f"a cell cannot hold {type(value).__name__}: {value!r}")


def _escaped(value: str) -> str:
    """Return text as XML character data: markup escaped, forbidden characters replaced."""
    if _SPECIAL.search(value) is not None:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        value = _FORBIDDEN.sub("\ufffd", value.replace("\r", "&#13;"))
    if "_x" in value:
        value = _EXCEL_ESCAPE.sub(r"_x005F\g<0>", value)
    return value


def _t(value: str) -> str:
    """Return a <t> element holding text, its leading and trailing spaces kept."""
    if value[0] in _SPACES or value[-1] in _SPACES:
        return f'<t xml:space="preserve">{_escaped(value)}</t>'
    return f"<t>{_escaped(value)}</t>"


def _attribute(value: str) -> str:
    return _escaped(value).replace('"', "&quot;")


class Sheet:
    """One worksheet: a header row, then rows appended one by one."""

    def __init__(
        self,
        book: Workbook,
        number: int,
        title: str,
        header: Sequence[str],
        widths: Sequence[float],
        spooled: bool,
    ) -> None:
        self.book = book
        self.number = number
        self.title = title
        self.spooled = spooled
        self.rows = 0
        self.closed = False
        self._parts: list[str] = []
        self._size = 0
        self._head = self._start(widths).encode()
        self._file: IO[bytes]
        # Parts are written without ZIP64 records, which Excel refuses where they are not
        # needed. No sheet needs them: Excel's 1,048,576 rows are a few hundred MB of XML, and
        # zipfile raises rather than write a part past 2 GiB without them.
        if spooled:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115  # closed in _copy_in()
        else:
            self._file = book._zip.open(self.part, "w")
            self._file.write(self._head)
        self.append_cells("".join(book.shared(name, BOLD) for name in header))

    @property
    def part(self) -> str:
        """Return the sheet's name inside the zip file."""
        return f"xl/worksheets/sheet{self.number}.xml"

    def _start(self, widths: Sequence[float]) -> str:
        """Return the XML before the rows: the frozen header row and the column widths."""
        selected = ' tabSelected="1"' if self.number == 1 else ""
        cols = "".join(
            f'<col min="{n}" max="{n}" width="{width}" customWidth="1"/>'
            for n, width in enumerate(widths, start=1)
        )
        return (
            f'{_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
            f'<sheetViews><sheetView{selected} workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + "<sheetData>"
        )

    def append(self, values: Iterable[Value]) -> None:
        """Write a row of values (see `cell`)."""
        self.append_cells("".join(map(cell, values)))

    def append_cells(self, cells: str) -> None:
        """Write a row of cells already made (their XML, joined)."""
        self.rows += 1
        row = f'<row r="{self.rows}">{cells}</row>'
        self._parts.append(row)
        self._size += len(row)
        if self._size >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        """Write the rows held so far: the zip file compresses them as they arrive."""
        self._file.write("".join(self._parts).encode())
        self._parts.clear()
        self._size = 0

    def close(self) -> None:
        """Write the rows still held and end the sheet; a spooled one is copied in later."""
        if self.closed:
            return
        self._parts.append("</sheetData></worksheet>")
        self._flush()
        self.closed = True
        if not self.spooled:
            self._file.close()
            self.book._writing = None

    def _copy_in(self) -> None:
        """Copy a spooled sheet into the zip file, its XML before the rows first."""
        if self.spooled:
            with self.book._zip.open(self.part, "w") as entry:
                entry.write(self._head)
                self._file.seek(0)
                shutil.copyfileobj(self._file, entry, CHUNK)
            self._file.close()


class Workbook:
    """A workbook written as a stream: sheets in the order they are made, saved on close."""

    def __init__(self, output: Path, level: int = LEVEL) -> None:
        self._zip = zipfile.ZipFile(
            create_private(output), "w", zipfile.ZIP_DEFLATED, compresslevel=level
        )
        self._sheets: list[Sheet] = []
        self._strings: dict[str, int] = {}
        self._writing: Sheet | None = None

    def sheet(
        self,
        title: str,
        header: Sequence[str],
        widths: Sequence[float],
        spooled: bool = False,
    ) -> Sheet:
        """Add a sheet with a bold, frozen header row and a width for each column.

        It is written straight into the file unless another sheet is being written or it is
        asked to be `spooled`: then it waits in a temporary file until the workbook closes.
        """
        if _SHEET_NAME.fullmatch(title) is None:
            raise ValueError(f"Excel cannot name a sheet {title!r}")
        if any(sheet.title.lower() == title.lower() for sheet in self._sheets):
            raise ValueError(f"there is already a sheet called {title!r}")
        spooled = spooled or self._writing is not None
        sheet = Sheet(self, len(self._sheets) + 1, title, header, widths, spooled)
        if not spooled:
            self._writing = sheet
        self._sheets.append(sheet)
        return sheet

    def shared(self, value: str, style: int = NORMAL) -> str:
        """Return a cell holding text kept once for the workbook: for text that repeats."""
        if not value:
            return EMPTY
        index = self._strings.get(value)
        if index is None:
            index = self._strings[value] = len(self._strings)
        styled = f' s="{style}"' if style else ""
        return f'<c t="s"{styled}><v>{index}</v></c>'

    def close(self) -> None:
        """End every sheet and write the parts that describe the workbook."""
        try:
            if self._writing is not None:
                self._writing.close()
            for sheet in self._sheets:
                sheet.close()
                sheet._copy_in()
            self._write_parts()
        except BaseException:
            self.abort()
            raise
        self._zip.close()

    def abort(self) -> None:
        """Stop writing after a failure, leaving no temporary file behind."""
        for sheet in self._sheets:
            with contextlib.suppress(Exception):
                sheet._file.close()
        with contextlib.suppress(Exception):
            self._zip.close()

    def _write_parts(self) -> None:
        with self._zip.open("xl/sharedStrings.xml", "w") as entry:
            entry.write(
                f'{_DECLARATION}<sst xmlns="{_MAIN}" uniqueCount="{len(self._strings)}">'.encode()
            )
            parts: list[str] = []
            for value in self._strings:
                parts.append(f"<si>{_t(value)}</si>")
                if len(parts) >= 1000:
                    entry.write("".join(parts).encode())
                    parts.clear()
            entry.write(("".join(parts) + "</sst>").encode())
        sheets = self._sheets
        for name, xml in (
            ("xl/styles.xml", _STYLES),
            ("xl/workbook.xml", _workbook(sheets)),
            ("xl/_rels/workbook.xml.rels", _workbook_relationships(len(sheets))),
            ("[Content_Types].xml", _content_types(len(sheets))),
            ("_rels/.rels", _RELS),
            ("docProps/core.xml", _CORE),
            ("docProps/app.xml", _APP),
        ):
            self._zip.writestr(name, _DECLARATION + xml)


def _workbook(sheets: list[Sheet]) -> str:
    listed = "".join(
        f'<sheet name="{_attribute(sheet.title)}" sheetId="{sheet.number}" '
        f'r:id="rId{sheet.number}"/>'
        for sheet in sheets
    )
    return (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
        f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{listed}</sheets></workbook>'
    )


def _workbook_relationships(sheets: int) -> str:
    kind = f"{_RELATIONSHIPS}/"
    listed = [
        f'<Relationship Id="rId{n}" Type="{kind}worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    ]
    listed.append(f'<Relationship Id="rId{sheets + 1}" Type="{kind}styles" Target="styles.xml"/>')
    listed.append(
        f'<Relationship Id="rId{sheets + 2}" Type="{kind}sharedStrings" '
        'Target="sharedStrings.xml"/>'
    )
    return f'<Relationships xmlns="{_PACKAGE}">{"".join(listed)}</Relationships>'


def _content_types(sheets: int) -> str:
    parts = {
        "/xl/workbook.xml": f"{_TYPE}.sheet.main+xml",
        "/xl/styles.xml": f"{_TYPE}.styles+xml",
        "/xl/sharedStrings.xml": f"{_TYPE}.sharedStrings+xml",
        "/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml",
        "/docProps/app.xml": f"{_OFFICE}.extended-properties+xml",
    }
    for n in range(1, sheets + 1):
        parts[f"/xl/worksheets/sheet{n}.xml"] = f"{_TYPE}.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in parts.items()
    )
    return (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{overrides}</Types>"
    )


_RELS = (
    f'<Relationships xmlns="{_PACKAGE}">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_PACKAGE}/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_RELATIONSHIPS}/extended-properties" '
    'Target="docProps/app.xml"/>'
    "</Relationships>"
)
_CORE = (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:creator>Heard</dc:creator></cp:coreProperties>"
)
_APP = (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Application>Heard</Application></Properties>'
)
_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
# Fills 0 and 1 are the two Excel expects (none, gray125); the cell styles are NORMAL, BOLD
# and DATE, in that order.
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}">'
    f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/></numFmts>'
    f'<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
