"""``reports/index.html``: every report of a run with its headline and its files.

Per report: title, a one-sentence headline (the first finding of its executive summary,
read from :data:`~crmlab.report.names.SUMMARY_FILE`; the client edition's first
plain-words sentence from :data:`~crmlab.report.names.CLIENT_FILE`), the edition, and
links to the HTML, the PDF and the tables (CSV files and the Excel workbook). The
executed notebook is linked in the teaching edition only (a client cannot open it). A
teaching index starts with the one-day course path of ``notebooks/README.md`` if it has
one.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import uuid
from pathlib import Path

from crmlab.report.execution import Report, _versions
from crmlab.report.html import page, sanitize_html
from crmlab.report.names import CLIENT, CLIENT_FILE, SUMMARY_FILE, TEACHING
from crmlab.report.resources import bundled

_COURSE_HEADING = re.compile(r"^(#{2,3})\s+(.*(?:one-day|one day|course path).*)$", re.I | re.M)


def headline(folder: Path, edition: str = TEACHING) -> str:
    """The first sentence of the report's summary for ``edition`` ("" if it has none)."""
    if edition == CLIENT:
        client = folder / CLIENT_FILE
        if client.exists():
            sentences = json.loads(client.read_text(encoding="utf-8")).get("client", [])
            if sentences:
                return str(sentences[0]["text"])
    summary = folder / SUMMARY_FILE
    if summary.exists():
        findings = json.loads(summary.read_text(encoding="utf-8"))
        if findings:
            return str(findings[0]["text"])
    return ""


def course_path(readme: Path | None = None) -> str:
    """The one-day course section of ``notebooks/README.md`` as HTML ("" if there is none)."""
    import mistune

    if readme is None:
        try:
            readme = bundled("notebooks") / "README.md"
        except FileNotFoundError:
            return ""
    if not readme.exists():
        return ""
    text = readme.read_text(encoding="utf-8")
    match = _COURSE_HEADING.search(text)
    if not match:
        return ""
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}}\s", rest, re.M)
    section = f"## {match.group(2)}\n{rest[: end.start() if end else len(rest)]}"
    section = re.sub(r"\]\([^)]*\.ipynb\)", "]()", section)  # notebooks are not in reports/
    rendered = re.sub(r'<a href="">(.*?)</a>', r"\1", mistune.html(section))
    return f'<section class="crmlab-course">{sanitize_html(rendered)}</section>'


def _link(path: Path, out: Path, text: str | None = None) -> str:
    rel = html.escape(path.relative_to(out).as_posix())
    return f'<a href="{rel}">{html.escape(text or path.name)}</a>'


def write_index(reports: list[Report], out: str | Path, *, edition: str = TEACHING) -> Path:
    """Write ``out/index.html`` for ``reports`` (failed ones listed with their error)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for rep in reports:
        if rep.error:
            rows.append(
                f'<tr class="failed"><td><strong>{html.escape(rep.title)}</strong></td>'
                f'<td colspan="3">failed <pre>{html.escape(rep.error)}</pre></td></tr>'
            )
            continue
        links = [_link(rep.html, out, "HTML")] if rep.html.exists() else []
        if rep.pdf.exists():
            links.append(_link(rep.pdf, out, "PDF"))
        if rep.workbook.exists():
            links.append(_link(rep.workbook, out, "Excel"))
        csv = [p for p in rep.files if p.suffix == ".csv" and p.exists()]
        if csv:
            links.append("tables (CSV): " + ", ".join(_link(p, out, p.stem) for p in csv))
        if rep.edition != CLIENT and rep.notebook.exists():
            links.append(_link(rep.notebook, out, "executed notebook"))
        title = _link(rep.html, out, rep.title) if rep.html.exists() else html.escape(rep.title)
        edition_name = "instructor" if rep.solutions else rep.edition
        rows.append(
            f'<tr><td class="report">{title}<div class="headline">'
            f"{html.escape(headline(rep.folder, rep.edition))}</div></td>"
            f"<td>{html.escape(edition_name)}</td><td>{' · '.join(links)}</td></tr>"
        )
    when = dt.datetime.now(dt.UTC)
    body = (
        (course_path() if edition != CLIENT else "")
        + f"<p>Reports rendered {when:%Y-%m-%d %H:%M} UTC with crmlab {_versions()['crmlab']}.</p>"
        + '<div class="crmlab-table-wrap"><table class="crmlab-index"><thead><tr>'
        "<th>Report</th><th>Edition</th><th>Files</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    title = "Client reports" if edition == CLIENT else "crmlab reports"
    text = page(title, body, edition=edition)
    index = out / "index.html"
    partial = out / f".index.html.tmp-{uuid.uuid4().hex}"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, index)  # a reader never sees half an index
    return index
