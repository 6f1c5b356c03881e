"""One Excel workbook per report: a sheet per exported table and a first sheet describing them.

:func:`crmlab.reports.export` writes each table as CSV and as its own ``.xlsx`` and notes
its name in :data:`~crmlab.report.names.EXPORTS_FILE`; after the run,
:func:`build_workbook` gathers the tables, in the order the notebook exported them, into
``<report>-tables.xlsx``: header row with readable labels and units, number formats
(thousands separators, percentages, dates), frozen header and filters, and a first sheet
"About" listing every sheet's columns with label, unit and format, and the assumptions
(the notebook's parameters with their reasons).

Labels and units come from the column names by :func:`column_format` (``actual_value``
-> "Actual value", money; ``p_alive`` -> "P alive", share shown as %).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmlab.report.names import EXPORTS_FILE
from crmlab.report.parameters import DATA_PARAMETERS

ABOUT_SHEET = "About"
COLUMNS_HEADER = ["Sheet", "Column in the CSV file", "Header in the sheet", "Unit", "Number format"]
ASSUMPTIONS_HEADER = ["Assumption", "Value", "Why"]
_MONEY = re.compile(
    r"value|profit|revenue|amount|clv|spend|sales|monetary|price|cost|margin_total|wallet"
)
_SHARE = re.compile(r"share|rate|pct|percent|p_alive|prob|proportion|sow|scr|ratio_of")
_TIME = re.compile(r"\b(days|weeks|months|years)\b")
_COUNT = re.compile(r"^n_|count|frequency|orders|transactions|customers|purchases|number|^x$")


@dataclass(frozen=True)
class ColumnFormat:
    """How a column is shown: label, unit (for the header and the About sheet), Excel format."""

    label: str
    unit: str
    number_format: str


def column_format(name: Any, values: list[Any]) -> ColumnFormat:
    """Label, unit and number format of a column from its name and its values.

    Shares (names with share, rate, p_alive ... and every value in [0, 1]) are shown as
    percentages; money-like names as amounts with two decimals; time names in their
    unit; counts and other whole numbers with thousands separators; dates as ISO dates.
    """
    text = str(name) if name is not None else ""
    key = text.lower()
    label = text.replace("_", " ").strip()
    label = label[:1].upper() + label[1:] if label else "Row"
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    dates = [v for v in values if isinstance(v, dt.date | dt.datetime)]
    if dates and len(dates) >= len(numbers):
        return ColumnFormat(label, "date", "yyyy-mm-dd")
    if not numbers:
        return ColumnFormat(label, "", "General")
    whole = all(float(v).is_integer() for v in numbers)
    if key.endswith("_id") or key == "id":
        return ColumnFormat(label, "", "0")
    if _SHARE.search(key) and all(0 <= v <= 1 for v in numbers):
        return ColumnFormat(label, "%", "0.0%")
    if _MONEY.search(key):
        return ColumnFormat(label, "money", "#,##0.00")
    time = _TIME.search(key.replace("_", " "))
    if time:
        return ColumnFormat(label, time.group(1), "#,##0" if whole else "#,##0.0")
    if whole:
        return ColumnFormat(label, "count" if _COUNT.search(key) else "", "#,##0")
    return ColumnFormat(label, "", "#,##0.00##")


def _header(fmt: ColumnFormat) -> str:
    return f"{fmt.label} ({fmt.unit})" if fmt.unit else fmt.label


def exported_tables(folder: Path) -> list[str]:
    """Names of the tables exported into ``folder``, in the order of export (no repeats)."""
    manifest = folder / EXPORTS_FILE
    if not manifest.exists():
        return []
    names = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            names.append(json.loads(line)["name"])
    return [n for n in dict.fromkeys(names) if (folder / f"{n}.xlsx").exists()]


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def build_workbook(
    folder: Path,
    path: Path,
    title: str,
    parameters: Mapping[str, Any],
    reasons: Mapping[str, str],
) -> Path | None:
    """Gather the tables exported into ``folder`` into one workbook at ``path``.

    Returns None (and writes nothing) when the notebook exported no table. The
    export manifest is removed either way.
    """
    from openpyxl import Workbook, load_workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    names = exported_tables(folder)
    (folder / EXPORTS_FILE).unlink(missing_ok=True)
    if not names:
        return None
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="F0F4F8")
    book = Workbook()
    about = book.active
    about.title = ABOUT_SHEET
    described: list[tuple[str, ColumnFormat, str]] = []
    used = {ABOUT_SHEET.lower()}
    for name in names:
        source = load_workbook(folder / f"{name}.xlsx", read_only=True)
        rows = [list(r) for r in source.worksheets[0].iter_rows(values_only=True)]
        source.close()
        sheet_name = name[:31]
        while sheet_name.lower() in used:
            sheet_name = sheet_name[:28] + f"_{len(used)}"
        used.add(sheet_name.lower())
        sheet = book.create_sheet(sheet_name)
        header, body = (rows[0], rows[1:]) if rows else ([], [])
        formats = [
            column_format(h, [r[j] for r in body if j < len(r) and r[j] is not None])
            for j, h in enumerate(header)
        ]
        sheet.append([_header(f) for f in formats])
        for row in body:
            sheet.append(row)
        for j, fmt in enumerate(formats, start=1):
            letter = get_column_letter(j)
            cell = sheet.cell(row=1, column=j)
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            for (value,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                value.number_format = fmt.number_format
            sheet.column_dimensions[letter].width = max(10, min(40, len(_header(fmt)) + 2))
            described.append((sheet_name, fmt, str(header[j - 1])))
        sheet.freeze_panes = "A2"
        if header:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(body) + 1}"
    about.append([title])
    about["A1"].font = Font(bold=True, size=14)
    about.append([f"Made {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by crmlab."])
    about.append([])
    about.append(COLUMNS_HEADER)
    for cell in about[about.max_row]:
        cell.font, cell.fill = bold, fill
    for sheet_name, fmt, original in described:
        unit = {"%": "share, shown as a percentage", "money": "money, in the data's currency"}
        about.append(
            [sheet_name, original, _header(fmt), unit.get(fmt.unit, fmt.unit), fmt.number_format]
        )
    about.append([])
    about.append(ASSUMPTIONS_HEADER)
    for cell in about[about.max_row]:
        cell.font, cell.fill = bold, fill
    for key, value in parameters.items():
        if key in DATA_PARAMETERS:
            continue
        about.append([key.replace("_", " ").capitalize(), _plain(value), reasons.get(key, "")])
    for letter, width in zip("ABCDE", (28, 28, 28, 30, 28), strict=True):
        about.column_dimensions[letter].width = width
    book.save(path)
    return path
