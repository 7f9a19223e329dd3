"""Read a client file into a raw table of cells, remembering each row's spreadsheet row number.

Supported: CSV / TSV / TXT (delimiter sniffed), Excel ``.xlsx`` / ``.xlsm`` (chosen sheet, header
on any row), Parquet, and an in-memory pandas DataFrame. Text files are decoded with the explicit
``encoding=`` when given, otherwise automatically: UTF-8 (with or without BOM), UTF-16 with BOM
(Excel's "Unicode text"), then CP950 / Big5 (Traditional Chinese Windows). A file that fits none
of them is refused rather than read as mojibake.

The header row is ``header_row`` (1-based, as the spreadsheet shows it) when given, otherwise the
row among the first :data:`HEADER_SEARCH_ROWS` whose cells match the most known column names.
Rows above the header (titles, GA4's ``#`` comment lines) are skipped, blank rows are dropped, and
every kept row keeps the number a spreadsheet user would see, for error messages.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from kpitools._errors import Problem
from kpitools.io._parse import normalize_header

__all__ = ["HEADER_SEARCH_ROWS", "RawTable", "ReadError", "read_raw"]

#: How many non-blank rows at the top of a file are searched for the header row.
HEADER_SEARCH_ROWS = 30
#: After this many empty rows in a row, an Excel sheet is checked for values further down.
EMPTY_RUN_ROWS = 1_000
#: Bytes of a sheet's XML scanned at a time when counting its values.
XML_CHUNK_BYTES = 1 << 20
_XML_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)[\s>]")
#: Bytes examined to decide whether a file is binary and which delimiter it uses.
SNIFF_BYTES = 64 * 1024
#: Delimiters tried when sniffing a text file, most common first.
DELIMITERS = (",", "\t", ";", "|")
#: Encodings tried in order by ``encoding="auto"`` after the BOM checks.
AUTO_ENCODINGS = ("utf-8", "cp950", "big5hkscs")

TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls / .doc
#: A formula cell in sheet XML whose value is empty or missing: ``<f>A2*2</f><v/></c>``.
_UNSAVED_FORMULA = re.compile(rb"<f\b[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>")
#: ``delimiter=`` value for columns separated by runs of blanks (the CDNOW master file).
WHITESPACE = "whitespace"
Record = tuple[int, list[object]]


class ReadError(Exception):
    """A file that cannot be read at all; carries one :class:`Problem` for the report."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.render())


@dataclass
class RawTable:
    """Cells of one table as read (object dtype), with header and row numbers.

    ``rows[i]`` is the spreadsheet row number of ``frame.iloc[i]``; ``header_row`` the row number
    of the header (0 for sources without one, such as a DataFrame given in memory).
    """

    frame: pd.DataFrame
    rows: np.ndarray
    header_row: int
    encoding: str | None = None
    problems: list[Problem] = field(default_factory=list)


def _fail(message: str, hint: str) -> ReadError:
    return ReadError(Problem(message, hint=hint))


def read_raw(
    source: object,
    *,
    encoding: str = "auto",
    sheet: str | int | None = None,
    header_row: int | None = None,
    known_headers: Collection[str] = (),
    skip_comment_rows: bool = False,
    stop_at_blank_row: bool = False,
    delimiter: str | None = None,
    names: Sequence[str | None] | None = None,
    tables: Callable[[list[Record]], tuple[list[Record], list[Problem]]] | None = None,
) -> RawTable:
    """Read ``source`` into a :class:`RawTable`; raise :class:`ReadError` when it cannot be read.

    ``known_headers`` are normalised column names (see ``normalize_header``) used to find the
    header row; ``skip_comment_rows`` drops rows starting with ``#`` anywhere (GA4), and
    ``stop_at_blank_row`` ends the table at its first blank row (report footers).
    ``delimiter`` overrides sniffing (``"whitespace"`` splits on runs of spaces and tabs, as in
    the CDNOW master file); ``names`` are the column names of a file without a header row
    (``None`` leaves a column out); ``tables`` picks one table out of a file holding several
    (GA4 downloads, see :mod:`kpitools.io._ga4`).
    """
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise _fail(
            f"header_row must be a row number from 1, got {header_row!r}",
            "header_row counts like the spreadsheet does: the first row is 1.",
        )
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True).astype(object)
        frame.columns = [str(c) for c in frame.columns]
        return RawTable(frame, np.arange(2, len(frame) + 2), 1)

    data, suffix = _read_bytes(source)
    if not data.strip():
        raise _fail(
            "the file is empty",
            "export the table again; the file has no header and no rows.",
        )
    kind = _detect_kind(data, suffix)
    if kind == "parquet":
        frame = _read_parquet(data)
        return RawTable(frame, np.arange(2, len(frame) + 2), 1)
    if kind == "excel":
        records = _excel_records(data, sheet, known_headers)
        used_encoding = None
    else:
        text, used_encoding = _decode(data, encoding)
        records = _text_records(text, suffix, delimiter)
    picked: list[Problem] = []
    if tables is not None:
        records, picked = tables(records)
        errors = [p for p in picked if p.severity == "error"]
        if errors:
            raise ReadError(errors[0])
    if names is not None:
        raw = _named_table(records, names)
    else:
        raw = _records_to_table(
            records, header_row, known_headers, skip_comment_rows, stop_at_blank_row
        )
    raw.problems.extend(picked)
    raw.encoding = used_encoding
    return raw


def _read_bytes(source: object) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), ""
    if not isinstance(source, str | os.PathLike):
        raise _fail(
            f"cannot read a {type(source).__name__}",
            "pass a file path (str or pathlib.Path) or a pandas DataFrame.",
        )
    path = Path(source)
    if path.is_dir():
        raise _fail(
            "is a folder, not a file",
            "name one file: a .csv, .tsv, .xlsx or .parquet export.",
        )
    if path.exists() and not path.is_file():
        raise _fail(
            "is not a regular file (a device, pipe or socket), not a data file",
            "name one exported table: a .csv, .tsv, .xlsx or .parquet file.",
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fail(
            "file not found",
            f"check the file name and folder; looked for {str(path)!r}.",
        ) from None
    except OSError as exc:
        raise _fail(
            f"cannot open the file ({exc.strerror or exc})",
            "check that the file is not locked by another program and that you may read it.",
        ) from None
    return data, path.suffix.lower()


def _detect_kind(data: bytes, suffix: str) -> str:
    if data.startswith(_PARQUET_MAGIC) or suffix in PARQUET_SUFFIXES:
        return "parquet"
    if data.startswith(_ZIP_MAGIC) or suffix in EXCEL_SUFFIXES:
        return "excel"
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise _fail(
            "is an old Excel 97-2003 (.xls) workbook, which kpitools does not read",
            "open it in Excel and save it as .xlsx (or as CSV UTF-8).",
        )
    head = data[:SNIFF_BYTES]
    has_utf16_bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not has_utf16_bom:
        raise _fail(
            "is a binary file, not a table (it contains NUL bytes)",
            "export the data as CSV, Excel (.xlsx) or Parquet.",
        )
    return "text"


def _decode(data: bytes, encoding: str) -> tuple[str, str]:
    if encoding and encoding.lower() != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise _fail(
                f"unknown encoding {encoding!r}",
                "use 'auto', 'utf-8', 'utf-8-sig', 'big5' or 'cp950'.",
            ) from None
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise _fail(
                f"cannot be read as {encoding} (byte {exc.start} is invalid)",
                "leave encoding='auto' to detect UTF-8 / Big5 automatically, "
                "or give the encoding the file was saved with.",
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = AUTO_ENCODINGS
    for candidate in candidates:
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise _fail(
        "cannot be read as text: it is neither UTF-8 nor Big5/CP950",
        "save it again as 'CSV UTF-8' from Excel, or pass the file's encoding, "
        "e.g. encoding='big5'.",
    )


def _sniff_delimiter(text: str, suffix: str) -> str:
    if suffix in {".tsv", ".tab"}:
        return "\t"
    lines = [
        line
        for line in text[:SNIFF_BYTES].splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ][:HEADER_SEARCH_ROWS]
    if not lines:
        return ","
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        counts = [line.count(delimiter) for line in lines]
        # A real delimiter appears on most lines, the same number of times.
        score = min(counts[-len(counts) // 2 :] or [0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _text_records(
    text: str, suffix: str, delimiter: str | None = None
) -> list[tuple[int, list[object]]]:
    if delimiter == WHITESPACE:
        return [(n, line.split()) for n, line in enumerate(text.splitlines(), 1)]
    delimiter = delimiter or _sniff_delimiter(text, suffix)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[object]]] = []
    row_number = 0
    try:
        for cells in reader:
            row_number += 1
            records.append((row_number, list(cells)))
    except csv.Error as exc:
        raise _fail(
            f"is not a valid delimited text file (row {row_number + 1}: {exc})",
            "check for an unmatched quote character, or export the table again.",
        ) from None
    # A quote that never closes swallows the rest of the file into the last record's last cell;
    # only then is the (slower) strict pass needed.
    if records and any(isinstance(c, str) and ("\n" in c or "\r" in c) for c in records[-1][1]):
        _check_quotes_close(text, delimiter)
    return records


def _check_quotes_close(text: str, delimiter: str) -> None:
    """Refuse a file in which a quote opens a value that never closes.

    The lenient reader would return everything after such a quote, to the end of the file, as
    one cell, and the problem would then show up as one strange value (a 3-line "amount").
    A strict pass finds it and says which line opens the value; nothing of the file is quoted.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for _ in reader:
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" not in str(exc):
            return  # other strict complaints are left to the lenient reader, as before
        last = reader.line_num
        raise _fail(
            f'line {start}: a quote character (") opens a value that never closes, so lines '
            f"{start}–{last} would be read as a single value",
            f'find the lone " on line {start} of the file (or close it with a second "), or '
            "export the table again.",
        ) from None


def _excel_records(
    data: bytes, sheet: str | int | None, known_headers: Collection[str]
) -> list[tuple[int, list[object]]]:
    """Rows of the chosen sheet; without ``sheet``, the sheet whose header matches best.

    calamine (Rust) reads a workbook 10-15x faster than openpyxl; it is used when it gives the
    very cells openpyxl would (see :func:`_calamine_records`), openpyxl otherwise.
    """
    facts = _xml_facts(data)
    # calamine reads error cells (#N/A) as empty, where openpyxl keeps their text for the
    # parsers to report; and the 1904 date system is left to openpyxl too
    fast = None if facts.error_cells or facts.date1904 else _calamine_records(
        data, sheet, known_headers)
    if fast is not None:
        records, name = fast
    else:
        records, name = _openpyxl_records(data, sheet, known_headers)
    if facts.unsaved_formulas:
        _mark_unsaved_formulas(data, name, records)
    return records


#: A cell holding an Excel error (#N/A, #DIV/0!...) in sheet XML.
_ERROR_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*\bt=\"e\"")
_DATE_1904 = re.compile(rb"date1904=\"(?:1|true)\"")
_EXACT_INT = 2**53


@dataclass(frozen=True)
class _XmlFacts:
    """What one look at a workbook's XML tells before reading its cells."""

    unsaved_formulas: bool = False  # a formula cell without a saved value
    error_cells: bool = False
    date1904: bool = False


def _xml_facts(data: bytes) -> _XmlFacts:
    """:class:`_XmlFacts` of a workbook, each sheet's XML read once (nothing for a bad zip:
    the reader then says what is wrong)."""
    unsaved = errors = date1904 = False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.filename == "xl/workbook.xml":
                    date1904 = bool(_DATE_1904.search(archive.read(info)))
                elif info.filename.startswith("xl/worksheets/") and info.filename.endswith(
                        ".xml"):
                    xml = archive.read(info)
                    unsaved = unsaved or bool(_UNSAVED_FORMULA.search(xml))
                    errors = errors or bool(_ERROR_CELL.search(xml))
    except (zipfile.BadZipFile, KeyError, OSError):
        pass
    return _XmlFacts(unsaved, errors, date1904)


def _calamine_records(
    data: bytes, sheet: str | int | None, known_headers: Collection[str]
) -> tuple[list[tuple[int, list[object]]], str] | None:
    """``(records, sheet name)`` as :func:`_openpyxl_records` gives them, read by calamine;
    None when calamine is not installed, the sheet asked for is not there, or anything goes
    wrong: openpyxl then reads the workbook and words the errors. (The caller leaves workbooks
    with error cells or 1904 dates to openpyxl.)"""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return None
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            names = list(book.sheet_names)

            def head_rows(name: str) -> Iterable[list[object]]:
                return ([_as_openpyxl(v) for v in cells] for cells in book.get_sheet_by_name(
                    name).to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS))

            if sheet is None:
                name = _best_sheet(names, known_headers, head_rows)
            elif isinstance(sheet, int) and not isinstance(sheet, bool) and 0 <= sheet < len(
                    names):
                name = names[sheet]
            elif isinstance(sheet, str) and sheet in names:
                name = sheet
            else:
                return None  # openpyxl words the error
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        finally:
            book.close()
    except Exception:
        return None
    return [(i, [_as_openpyxl(v) for v in cells]) for i, cells in enumerate(rows, 1)], name


def _as_openpyxl(value: object) -> object:
    """A calamine cell as openpyxl gives it: None for empty, int for whole numbers, dates as
    datetimes."""
    if value == "":
        return None
    if type(value) is float:
        return int(value) if value.is_integer() and abs(value) < _EXACT_INT else value
    if type(value) is date:
        return datetime(value.year, value.month, value.day)
    return value


def _openpyxl_records(
    data: bytes, sheet: str | int | None, known_headers: Collection[str]
) -> tuple[list[tuple[int, list[object]]], str]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and data validation it does not keep; not our concern.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise _fail(
            f"cannot be opened as an Excel workbook ({type(exc).__name__})",
            "open it in Excel and save it again as .xlsx, or export it as CSV.",
        ) from None
    try:
        names = book.sheetnames
        if sheet is None:
            name = _best_sheet(names, known_headers, lambda n: (
                cells for _, cells in _sheet_records(book[n], max_row=HEADER_SEARCH_ROWS)))
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise _fail(
                    f"has no sheet number {sheet} "
                    f"(sheets are numbered from 0; it has {len(names)})",
                    f"pick one of the sheets {names}.",
                )
            name = names[sheet]
        elif str(sheet) in names:
            name = str(sheet)
        else:
            from kpitools._errors import did_you_mean

            guess = did_you_mean(str(sheet), names)
            also = f" (did you mean {guess!r}?)" if guess else ""
            raise _fail(
                f"has no sheet {str(sheet)!r}{also}. Sheets present: {names}",
                "set sheet: to one of the sheet names in client.yml, or pass sheet=... .",
            )
        records = _sheet_records(book[name])
    finally:
        book.close()
    return records, name


@dataclass(frozen=True)
class _UnsavedFormula:
    """A formula cell whose result was never saved (the file was not opened in Excel since)."""

    formula: str

    def __str__(self) -> str:
        return self.formula


def _mark_unsaved_formulas(data: bytes, sheet: str, records: list) -> None:
    """Put an :class:`_UnsavedFormula` where ``records`` has None and the sheet has a formula."""
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            rows = book[sheet].iter_rows(min_row=1, values_only=True)
            for (_, cells), formulas in zip(records, rows, strict=False):
                for j, value in enumerate(formulas[: len(cells)]):
                    if cells[j] is None and isinstance(value, str) and value.startswith("="):
                        cells[j] = _UnsavedFormula(value)
        finally:
            book.close()


def _sheet_records(worksheet, max_row: int | None = None) -> list[tuple[int, list[object]]]:
    """Rows of a sheet as read by openpyxl (read-only mode), numbered from 1.

    Sheets often carry many empty but formatted rows below the table (a million, when a whole
    column was styled). After :data:`EMPTY_RUN_ROWS` empty rows in a row, the sheet's XML is
    scanned for cell values (fast, no Python per row); when every value has already been read,
    the rest is not read. Otherwise reading goes on, so no data is ever skipped.
    """
    records: list[tuple[int, list[object]]] = []
    empty_run = values_read = 0
    scanned = max_row is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = worksheet.iter_rows(min_row=1, max_row=max_row, values_only=True)
        for i, cells in enumerate(rows, 1):
            filled = sum(c is not None for c in cells)
            values_read += filled
            empty_run = 0 if filled else empty_run + 1
            records.append((i, list(cells)))
            if empty_run >= EMPTY_RUN_ROWS and not scanned:
                scanned = True
                if _sheet_value_count(worksheet) <= values_read:
                    break
    return records


def _sheet_value_count(worksheet) -> float:
    """Cells holding a value (``<v>`` or an inline string) in the sheet's XML; inf if unknown."""
    try:
        source = worksheet.parent._archive.open(worksheet._worksheet_path)
    except (AttributeError, KeyError, OSError):  # not a read-only sheet of a zip: read it all
        return float("inf")
    count, tail = 0, b""
    with source:
        while chunk := source.read(XML_CHUNK_BYTES):
            buffer = tail + chunk
            cut = buffer.rfind(b">") + 1  # count whole tags only; the rest joins the next chunk
            count += len(_XML_VALUE.findall(buffer, 0, cut))
            tail = buffer[cut:]
    return count


def _best_sheet(names: list[str], known_headers: Collection[str],
                head_rows: Callable[[str], Iterable[list[object]]]) -> str:
    """The first sheet whose header matches best; ``head_rows(name)`` gives a sheet's first
    :data:`HEADER_SEARCH_ROWS` rows (only where a header can be: reading a whole sheet to pick
    it is slow)."""
    if len(names) == 1 or not known_headers:
        return names[0]
    best, best_hits = names[0], 0
    for name in names:
        hits = max((_header_hits(cells, known_headers) for cells in head_rows(name)), default=0)
        if hits > best_hits:
            best, best_hits = name, hits
    return best


def _header_hits(cells: list[object], known: Collection[str]) -> int:
    return sum(normalize_header(c) in known for c in cells if c is not None and str(c).strip())


def _read_parquet(data: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise _fail(
            f"cannot be read as Parquet ({type(exc).__name__})",
            "write the file again (e.g. DataFrame.to_parquet) or export it as CSV.",
        ) from None
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame.astype(object)


def _is_blank(cells: list[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _is_comment(cells: list[object]) -> bool:
    return bool(cells) and isinstance(cells[0], str) and cells[0].lstrip().startswith("#")


def _records_to_table(
    records: list[tuple[int, list[object]]],
    header_row: int | None,
    known_headers: Collection[str],
    skip_comment_rows: bool,
    stop_at_blank_row: bool,
) -> RawTable:
    if header_row is not None:
        header_at = next((k for k, (n, _) in enumerate(records) if n == header_row), None)
        if header_at is None or _is_blank(records[header_at][1]):
            raise _fail(
                f"row {header_row} (header_row) is empty or past the end of the file",
                "set header_row to the row that holds the column names, or leave it out to "
                "find it automatically.",
            )
    else:
        header_at = _find_header(records, known_headers)
        if header_at is None:
            raise _fail(
                "the file is empty (no header row)",
                "export the table again; the file has no header and no rows.",
            )
    header_number, header_cells = records[header_at]
    headers = _header_names(header_cells)

    body: list[list[object]] = []
    numbers: list[int] = []
    for number, cells in records[header_at + 1 :]:
        if _is_blank(cells):
            if stop_at_blank_row and body:
                break
            continue
        if skip_comment_rows and _is_comment(cells):
            continue
        body.append(cells)
        numbers.append(number)

    width = len(headers)
    problems: list[Problem] = []
    overflow = [
        (n, cells)
        for n, cells in zip(numbers, body, strict=True)
        if len(cells) > width and not _is_blank(cells[width:])
    ]
    if overflow:
        problems.append(
            Problem(
                f"{len(overflow)} rows have more cells than the header has columns ({width})",
                rows=tuple(n for n, _ in overflow),
                values=tuple(len(c) for _, c in overflow[:5]),
                hint="the delimiter may be wrong or a value may contain an unquoted comma; "
                "export the table again.",
            )
        )
    padded = [list(cells[:width]) + [None] * (width - len(cells)) for cells in body]
    problems.extend(_unsaved_formula_problems(padded, numbers, headers))
    frame = pd.DataFrame(padded, columns=range(width), dtype=object)
    frame = frame.replace({"": None})
    unnamed = [i for i, c in enumerate(header_cells[:width]) if c is None or not str(c).strip()]
    keep = [i for i in range(width) if i not in unnamed or frame.iloc[:, i].notna().any()]
    frame = frame.iloc[:, keep]
    frame.columns = [headers[i] for i in keep]
    return RawTable(frame, np.asarray(numbers, dtype=int), header_number, problems=problems)


def _unsaved_formula_problems(
    padded: list[list[object]], numbers: list[int], headers: list[str]
) -> list[Problem]:
    """One problem per column holding formulas without a saved result; cells become the formula.

    kpitools reads the results Excel saves and does not calculate formulas, so such a cell is
    not empty: it is a formula whose result is missing, and the message says so.
    """
    found: dict[int, list[tuple[int, str]]] = {}
    for row_number, cells in zip(numbers, padded, strict=True):
        for j, cell in enumerate(cells):
            if isinstance(cell, _UnsavedFormula):
                found.setdefault(j, []).append((row_number, cell.formula))
                cells[j] = cell.formula
    return [
        Problem(
            f"{len(cells)} formula cell{'s' if len(cells) > 1 else ''} without a saved result",
            column=headers[j],
            rows=tuple(n for n, _ in cells),
            values=tuple(f for _, f in cells[:5]),
            hint="open the file in Excel and save it (Excel then stores each formula's "
            "result, which kpitools reads; it does not calculate formulas), or export the "
            "sheet as CSV.",
        )
        for j, cells in sorted(found.items())
    ]


def _named_table(records: list[Record], names: Sequence[str | None]) -> RawTable:
    """A file without a header row: every non-blank row is data, columns named by ``names``."""
    body = [(n, cells) for n, cells in records if not _is_blank(cells)]
    width = len(names)
    problems: list[Problem] = []
    odd = [(n, len(cells)) for n, cells in body if len(cells) != width]
    if odd:
        problems.append(
            Problem(
                f"{len(odd)} rows do not have {width} cells, one per name in names",
                rows=tuple(n for n, _ in odd),
                values=tuple(k for _, k in odd[:5]),
                hint="give one name per column of the file (null for a column to leave out), "
                "and check the delimiter.",
            )
        )
    padded = [list(cells[:width]) + [None] * (width - len(cells)) for _, cells in body]
    frame = pd.DataFrame(padded, columns=range(width), dtype=object).replace({"": None})
    keep = [i for i, name in enumerate(names) if name]
    frame = frame.iloc[:, keep]
    frame.columns = [str(names[i]) for i in keep]
    rows = np.asarray([n for n, _ in body], dtype=int)
    return RawTable(frame.reset_index(drop=True), rows, 0, problems=problems)


def _header_names(cells: list[object]) -> list[str]:
    """Header cells as text; empty ones get a placeholder, repeated ones a suffix " (2)"."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        text = "" if cell is None else str(cell).replace("\ufeff", "").strip()
        text = text or f"column {i + 1}"
        seen[text] = seen.get(text, 0) + 1
        names.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    # Drop empty trailing header cells (Excel pads rows with None).
    while names and (cells[len(names) - 1] is None or not str(cells[len(names) - 1]).strip()):
        names.pop()
    return names


def _find_header(
    records: list[tuple[int, list[object]]], known_headers: Collection[str]
) -> int | None:
    candidates = [
        k for k, (_, cells) in enumerate(records) if not _is_blank(cells) and not _is_comment(cells)
    ][:HEADER_SEARCH_ROWS]
    if not candidates:
        return None
    known = set(known_headers)
    best, best_hits = candidates[0], 0
    for k in candidates:
        hits = _header_hits(records[k][1], known)
        if hits > best_hits:
            best, best_hits = k, hits
    return best
