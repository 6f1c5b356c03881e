"""An executed notebook as one self-contained HTML page, for the teaching or the client edition.

The page loads nothing from elsewhere: figures are data URIs, formulas are drawn to
embedded SVG with matplotlib's mathtext (no MathJax), no script runs (the page carries
a Content-Security-Policy forbidding scripts), and every fragment that can carry client
data (tables, markdown, summaries) is cleaned by :func:`sanitize_html`. Which cells and
which summary appear depends on the edition (:mod:`crmlab.report.editions`).
"""

from __future__ import annotations

import base64
import functools
import html
import re
from collections.abc import Mapping
from typing import Any

import nbformat

from crmlab.report import editions
from crmlab.report.names import CLIENT, CLIENT_ONLY, DATA_REPORT_CLASS, EDITIONS, TEACHING
from crmlab.report.resources import template

# reports run no script and load nothing from elsewhere: figures and formulas are data: URIs
CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
)
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@functools.cache
def page_template() -> str:
    """The page skeleton (``templates/page.html``), a :meth:`str.format` template."""
    return template("page.html")


@functools.cache
def css() -> str:
    """The report style sheet (``templates/report.css``): screen and print."""
    return template("report.css")


def page(
    title: str,
    body: str,
    *,
    summary: str = "",
    repro: str = "",
    front: str = "",
    edition: str = TEACHING,
) -> str:
    """A complete page around already sanitised ``body`` (``title`` is escaped here)."""
    return page_template().format(
        title=html.escape(title),
        csp=CSP,
        css=css(),
        edition=html.escape(edition),
        front=front,
        summary=summary,
        body=body,
        repro=repro,
    )


def notebook_title(nb: nbformat.NotebookNode, edition: str = TEACHING) -> str:
    """The first ``# Title`` of the notebook's markdown cells.

    The client edition takes it from a cell tagged ``client-only`` first (a title in
    plain words), the teaching edition skips such cells.
    """
    cells = [c for c in nb.cells if c.cell_type == "markdown"]
    client_cells = [c for c in cells if CLIENT_ONLY in c.metadata.get("tags", [])]
    if edition == CLIENT:
        cells = client_cells + cells
    else:
        cells = [c for c in cells if c not in client_cells]
    for cell in cells:
        for line in cell.source.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return ""


def _drop_widgets(nb: nbformat.NotebookNode) -> None:
    """Remove widget views and widget state: a static report cannot run them."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        keep = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if _WIDGET_MIME in data:
                data.pop(_WIDGET_MIME)
                data.pop("text/plain", None)
                if not data:
                    continue
            keep.append(output)
        cell.outputs = keep


# $$display$$ or $inline$ (pandoc's rule: no space inside the dollars, no digit after the
# closing one, so "costs $5 and $10" stays text)
_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?=[^\s$])([^$\n]*?[^\s\\$])\$(?!\d)", re.S)


_TEX_SUBSTITUTIONS = (
    (re.compile(r"\\(?:text|textrm|operatorname|textit|textbf)\{([^{}]*)\}"), None),
    (re.compile(r"\\underbrace\{((?:[^{}]|\{[^{}]*\})*)\}_\{(?:[^{}]|\{[^{}]*\})*\}"), r"\1"),
    (re.compile(r"\\overbrace\{((?:[^{}]|\{[^{}]*\})*)\}\^\{(?:[^{}]|\{[^{}]*\})*\}"), r"\1"),
    (re.compile(r"\\(ge|le)(?![a-zA-Z])"), r"\\\1q"),
    (re.compile(r"\\(?:displaystyle|textstyle|left|right)(?![a-zA-Z])\.?"), ""),
    (re.compile(r"\\(?:dfrac|tfrac)(?![a-zA-Z])"), r"\\frac"),
)


def _mathtext(tex: str) -> str:
    """Translate common TeX that matplotlib's mathtext lacks (\\text, \\underbrace, ...)."""
    for pattern, repl in _TEX_SUBSTITUTIONS:
        if repl is None:
            tex = pattern.sub(lambda m: r"\mathrm{" + m.group(1).replace(" ", r"\ ") + "}", tex)
        else:
            tex = pattern.sub(repl, tex)
    return tex


def _math_svg(tex: str, display_mode: bool) -> str:
    """A TeX formula as inline SVG via matplotlib's mathtext (no MathJax, works offline)."""
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(0.01, 0.01))
    # mathtext works line by line: a newline inside a formula would print it as text
    one_line = " ".join(_mathtext(tex).split())
    fig.text(0, 0, f"${one_line}$", fontsize=13 if display_mode else 11)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.02, transparent=True)
    except ValueError:  # mathtext cannot parse it: show the source instead
        return f"<code>{html.escape(tex)}</code>"
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cls = "crmlab-math-display" if display_mode else "crmlab-math"
    return f'<img class="{cls}" alt="{html.escape(tex)}" src="data:image/svg+xml;base64,{data}">'


def render_math(markdown: str) -> str:
    """Replace ``$...$`` and ``$$...$$`` in markdown by embedded SVG pictures."""

    def repl(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return f'\n<p class="crmlab-math-block">{_math_svg(match.group(1).strip(), True)}</p>\n'
        return _math_svg(match.group(2).strip(), False)

    return _MATH.sub(repl, markdown)


_TABLE = re.compile(r"<table\b.*?</table>", re.S | re.I)


def wrap_tables(fragment: str) -> str:
    """Put every top-level ``<table>`` in a ``div.crmlab-table-wrap`` that scrolls on screen.

    A wide table (many columns, long labels) then scrolls inside its wrapper instead
    of running past the page at 1280 px; in print the style sheet shrinks and wraps it.
    """
    return _TABLE.sub(lambda m: f'<div class="crmlab-table-wrap">{m.group(0)}</div>', fragment)


_LINK = re.compile(r"<a\b[^>]*\bhref=\"([^\"]*)\"[^>]*>(.*?)</a>", re.S | re.I)


def unlink_local(fragment: str) -> str:
    """Links to notebooks and other files of the kit replaced by their text (client edition).

    A client cannot open ``.ipynb`` files or the kit's folders; links to web pages
    (``http(s)``, ``mailto``) and within the page (``#``) stay.
    """

    def repl(match: re.Match[str]) -> str:
        href = html.unescape(match.group(1)).strip().lower()
        if href.startswith(("http://", "https://", "mailto:", "#")) and ".ipynb" not in href:
            return match.group(0)
        return match.group(2)

    return _LINK.sub(repl, fragment)


def to_html(
    nb: nbformat.NotebookNode,
    parameters: Mapping[str, Any],
    *,
    title: str = "Report",
    edition: str = TEACHING,
    client: str = "",
    prepared_by: str = "",
    reasons: Mapping[str, str] | None = None,
    notes: list[str] | None = None,
) -> str:
    """A self-contained HTML page of an executed notebook, without code cells.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook (not modified).
    parameters : mapping
        Every parameter's effective value (shown in the reproducibility block; the
        client edition's appendix lists the assumptions among them).
    title : str
        Page title.
    edition : {"teaching", "client"}
        Teaching: exercises and asides, the teaching summary. Client: a title block
        (``client``, ``prepared_by``, date, the data in words), the plain-words summary
        with recommended actions, the analysis without exercises, widgets, teaching
        asides or links to notebooks, and a method appendix.
    reasons : mapping, optional
        One-line reason of each parameter (the comments of the parameters cell).
    notes : list, optional
        Receives build-log lines (e.g. a client edition falling back to the
        teaching summary).

    Notes
    -----
    Figures are embedded as data URIs, formulas as embedded SVG, widget views and
    state are removed, the executive summary moves to the top. Nothing is loaded
    from the network (no MathJax, require.js or web fonts). Outputs on stderr stay
    visible.
    """
    from nbconvert import HTMLExporter

    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, got {edition!r}")
    notes = notes if notes is not None else []
    nb = nbformat.from_dict(nb)
    summary = editions.pick_summary(nb, edition, notes)
    data_reports = editions.pop_blocks(nb, DATA_REPORT_CLASS)
    _drop_widgets(nb)
    editions.select_cells(nb, edition)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = render_math(cell.source)
    # the title goes in the page header; drop the notebook's own H1 line
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            lines = cell.source.lstrip().splitlines()
            cell.source = "\n".join(lines[1:])
            break
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True)
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r"<script[^>]*>.*?</script>", "", body, flags=re.S | re.I)
    body = wrap_tables(sanitize_html(body))
    reports_html = wrap_tables(sanitize_html("\n".join(data_reports)))
    front, appendix = "", ""
    if edition == CLIENT:
        body = unlink_local(body)
        front = editions.front_matter(client, prepared_by, parameters, data_reports)
        appendix = editions.appendix(parameters, reasons or {})
    from crmlab.report.execution import reproducibility_html

    repro = reproducibility_html(parameters, data_reports=reports_html)
    return page(
        title,
        body,
        summary=wrap_tables(sanitize_html(summary)),
        repro=appendix + repro,
        front=front,
        edition=edition,
    )


# what a report's HTML may contain: nbconvert's markup, pandas tables (with Styler's <style>),
# markdown, embedded images; everything else is shown as text (a customer id "<script>" stays
# readable) and event handlers, javascript: links and remote images are dropped
ALLOWED_TAGS = frozenset(
    "a abbr b blockquote br caption code col colgroup dd del details div dl dt em figcaption "
    "figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small span strong "
    "style sub summary sup table tbody td tfoot th thead tr u ul var".split()
)
ALLOWED_ATTRIBUTES = {
    "*": ["class", "id", "title", "lang", "dir", "role", "style", "data-mime-type"],
    "a": ["href", "name"],
    "img": ["src", "alt", "width", "height"],
    "table": ["border", "cellpadding", "cellspacing"],
    "td": ["colspan", "rowspan", "align", "valign", "headers", "scope"],
    "th": ["colspan", "rowspan", "align", "valign", "headers", "scope"],
    "col": ["span"],
    "colgroup": ["span"],
    "ol": ["start", "type"],
    "style": ["type"],
}


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    if name == "src":  # images only from data: URIs (the page loads nothing from elsewhere)
        return tag == "img" and value.strip().lower().startswith("data:image/")
    return name in ALLOWED_ATTRIBUTES.get(tag, ()) or name in ALLOWED_ATTRIBUTES["*"]


@functools.cache
def _cleaner() -> Any:
    import bleach
    from bleach.css_sanitizer import CSSSanitizer

    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=_attribute_allowed,
        protocols={"http", "https", "mailto", "data"},
        strip=False,
        strip_comments=True,
        css_sanitizer=CSSSanitizer(),
    )


def sanitize_html(fragment: str) -> str:
    """``fragment`` with only the markup a report needs; anything else is escaped as text.

    Client data reaches a report in tables, markdown and summaries; a customer id
    such as ``<img src=x onerror=...>`` must show as text, not run. Allowed: the
    tags of :data:`ALLOWED_TAGS`, their layout attributes, ``style`` (CSS checked by
    bleach's CSS sanitizer), images from ``data:image/`` URIs only, links to
    http(s)/mailto/fragments. Disallowed tags (``script``, ``svg``, ``iframe``,
    ``form`` ...) are escaped, event handlers and other attributes dropped. Uses
    bleach (html5lib parsing, the browser's own algorithm); the page also carries
    :data:`CSP`, which forbids scripts should anything slip through.
    """
    if not fragment:
        return ""
    return _cleaner().clean(fragment)
