"""Two editions from one notebook: which cells, which summary, and the client's front and back.

* **teaching** (and the instructor edition, which adds worked solutions): every cell
  but those tagged :data:`~crmlab.report.names.CLIENT_ONLY`, the teaching summary
  (class :data:`~crmlab.report.names.SUMMARY_CLASS`).
* **client**: no cell tagged :data:`~crmlab.report.names.TEACHING_ONLY`, no exercises
  (code cells that call ``teach.``, the cells under a ``## Exercises`` heading), no
  explorers (``widgets.explore`` cells and the slider instructions before them), no
  links to notebooks; the plain-words summary with recommended actions (class
  :data:`~crmlab.report.names.CLIENT_CLASS`) - or, while a notebook has none yet, the
  teaching summary with a note in the build log; a title block (client, prepared by,
  date, the data in words) and a method appendix (the assumptions with their reasons).

Rules that need no tags come first; tags are for what no rule can see (a teaching aside).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from crmlab.report.names import (
    CLIENT,
    CLIENT_CLASS,
    CLIENT_ONLY,
    DATA_WORDS_CLASS,
    SUMMARY_CLASS,
    TEACHING,
    TEACHING_ONLY,
)
from crmlab.report.parameters import DATA_PARAMETERS

_EXERCISE_CALL = re.compile(r"\bteach\.\w+\(")
_WIDGET_CALL = re.compile(r"\bwidgets\.explore\(")
_EXERCISES_HEADING = re.compile(r"^##\s+Exercises?\b", re.I | re.M)
_H2 = re.compile(r"^#{1,2}\s", re.M)
_SLIDER_WORDS = re.compile(r"\bslider", re.I)


def _outputs_html(output: Mapping[str, Any]) -> str:
    text = output.get("data", {}).get("text/html", "")
    return "".join(text) if isinstance(text, list) else text


def extract_blocks(text: str, cls: str) -> tuple[list[str], str]:
    """The ``<div class="cls">...</div>`` blocks of ``text`` (nested divs counted) and the rest."""
    found: list[str] = []
    opening = f'<div class="{cls}">'
    while True:
        start = text.find(opening)
        if start < 0:
            return found, text
        depth, pos = 0, start
        tags = re.compile(r"<div\b|</div\s*>", re.I)
        for match in tags.finditer(text, start):
            depth += 1 if match.group(0).lower().startswith("<div") else -1
            if depth == 0:
                pos = match.end()
                break
        else:
            pos = len(text)
        found.append(text[start:pos])
        text = text[:start] + text[pos:]


def pop_blocks(nb: nbformat.NotebookNode, cls: str) -> list[str]:
    """Remove the ``div.cls`` blocks from the outputs of ``nb`` and return them in order."""
    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        keep = []
        for output in cell.get("outputs", []):
            text = _outputs_html(output)
            if f'class="{cls}"' not in text:
                keep.append(output)
                continue
            blocks, rest = extract_blocks(text, cls)
            found.extend(blocks)
            if rest.strip():
                output["data"]["text/html"] = rest
                keep.append(output)
        cell.outputs = keep
    return found


def pick_summary(nb: nbformat.NotebookNode, edition: str, notes: list[str]) -> str:
    """The summary block for ``edition``, removed from the notebook with the other edition's.

    The client edition falls back to the teaching summary while a notebook writes no
    client sentences yet, and says so in ``notes`` (the build log).
    """
    teaching = pop_blocks(nb, SUMMARY_CLASS)
    client = pop_blocks(nb, CLIENT_CLASS)
    if edition != CLIENT:
        return "\n".join(teaching)
    if client:
        return "\n".join(client)
    if teaching:
        notes.append(
            "client edition: the notebook has no plain-words summary yet; "
            "the teaching summary is shown instead"
        )
    return "\n".join(teaching)


def is_exercise(cell: nbformat.NotebookNode) -> bool:
    """A code cell that asks or checks an exercise (it calls ``teach.``)."""
    return cell.cell_type == "code" and bool(_EXERCISE_CALL.search(cell.source))


def is_explorer(cell: nbformat.NotebookNode) -> bool:
    """A code cell that shows sliders (``widgets.explore``)."""
    return cell.cell_type == "code" and bool(_WIDGET_CALL.search(cell.source))


def select_cells(nb: nbformat.NotebookNode, edition: str) -> list[int]:
    """Keep the cells of ``edition`` in ``nb`` (in place); return the positions dropped."""
    dropped: set[int] = set()
    in_exercises = False
    for i, cell in enumerate(nb.cells):
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown" and _H2.search(cell.source):
            in_exercises = bool(_EXERCISES_HEADING.search(cell.source))
        if edition == TEACHING and CLIENT_ONLY in tags:
            dropped.add(i)
        if edition != CLIENT:
            continue
        if TEACHING_ONLY in tags or in_exercises or is_exercise(cell) or is_explorer(cell):
            dropped.add(i)
    if edition == CLIENT:  # the instructions for an explorer go with it
        for i, cell in enumerate(nb.cells):
            if is_explorer(cell):
                before = i - 1
                if before >= 0 and nb.cells[before].cell_type == "markdown":
                    if _SLIDER_WORDS.search(nb.cells[before].source):
                        dropped.add(before)
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in dropped]
    return sorted(dropped)


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def data_in_words(parameters: Mapping[str, Any]) -> str:
    """Where the data came from, in words (file name, not the path on the analyst's disk)."""
    path = str(parameters.get("data_path") or "")
    if path:
        if "://" in path:
            scheme = path.split("://")[0]
            table = (parameters.get("data_options") or {}).get("table")
            return f"a {scheme} database" + (f" (table {table})" if table else "")
        return f"the file {Path(path).name}"
    name = str(parameters.get("dataset") or "")
    if name:
        from crmlab import data
        from crmlab.errors import DataError

        try:
            entry = data._entry(name)
        except DataError:
            return f"the dataset {name}"
        return f"the sample dataset {name} ({entry['file']})"
    return "data described in the notebook"


def front_matter(
    client: str,
    prepared_by: str,
    parameters: Mapping[str, Any],
    data_reports: list[str],
    when: dt.date | None = None,
) -> str:
    """The client edition's title block: for whom, by whom, when, and the data in words."""
    from crmlab.report.html import sanitize_html

    when = when or dt.date.today()
    lines = []
    if client:
        lines.append(
            f'<p class="crmlab-prepared">Prepared for <strong>{html.escape(client)}</strong></p>'
        )
    if prepared_by:
        lines.append(f'<p class="crmlab-prepared">Prepared by {html.escape(prepared_by)}</p>')
    lines.append(f'<p class="crmlab-prepared">{when:%d %B %Y}</p>')
    words = []
    for block in data_reports:
        words += re.findall(rf'<p class="{DATA_WORDS_CLASS}">.*?</p>', block, flags=re.S)
    source = html.escape(data_in_words(parameters))
    described = sanitize_html(" ".join(words)) if words else ""
    lines.append(f'<h2>The data</h2><p class="crmlab-data-source">Source: {source}.</p>{described}')
    return f'<section class="crmlab-title-page">{"".join(lines)}</section>'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    if value in ("", None):
        return "(not set)"
    return str(value)


def appendix(parameters: Mapping[str, Any], reasons: Mapping[str, str]) -> str:
    """The method appendix: how the report was made and every assumption with its reason."""
    rows = "".join(
        f"<tr><td>{html.escape(_label(k))}</td><td>{html.escape(_value(v))}</td>"
        f"<td>{html.escape(reasons.get(k, ''))}</td></tr>"
        for k, v in parameters.items()
        if k not in DATA_PARAMETERS
    )
    table = (
        '<div class="crmlab-table-wrap"><table><thead><tr><th>Assumption</th><th>Value</th>'
        f"<th>Why</th></tr></thead><tbody>{rows}</tbody></table></div>"
        if rows
        else "<p>This analysis takes no assumptions beyond the data.</p>"
    )
    return (
        '<section class="crmlab-appendix"><h2>Method and assumptions</h2>'
        "<p>Every figure in this report was computed from the transactions described at the "
        "top, with the assumptions listed below. The same data and assumptions give the same "
        "numbers on every run; the section after this one records the software versions and "
        "a fingerprint of the data so the report can be reproduced.</p>"
        f"{table}</section>"
    )
