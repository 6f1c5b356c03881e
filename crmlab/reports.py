"""Helpers a notebook calls so that its rendered report is clean and useful.

* :func:`setup` - plot style and display options, first thing in every notebook;
* :func:`export` - write a table behind the report (CSV and Excel) for a client;
* :func:`executive_summary` - the computed key points, moved to the top of the report;
* :func:`show_data_report` - rows read, kept and excluded (and why), moved by the
  renderer into the report's data section.

The renderer (``crmlab report``) sets ``CRMLAB_EXPORT_DIR`` so exports land
beside the report; run interactively, they land in ``reports/tables/``.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import HTML, display

from crmlab.report.names import (  # shared with the renderer, defined once there
    CLIENT_CLASS,
    CLIENT_FILE,
    DATA_REPORT_CLASS,
    DATA_WORDS_CLASS,
    EXPORT_ENV,
    EXPORTS_FILE,
    SUMMARY_CLASS,
    SUMMARY_FILE,
)


def setup() -> None:
    """Apply crmlab's plot style and pandas display options."""
    from crmlab import plots

    plots.use_style()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 120)
    pd.set_option("display.float_format", _number)
    # Styler writes cell values into HTML unescaped by default: a customer id such as
    # "<img src=x onerror=...>" would become markup (DataFrame.to_html escapes already)
    pd.set_option("styler.format.escape", "html")
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is not None:  # index and column labels too (the option covers values only)
        from pandas.io.formats.style import Styler

        shell.display_formatter.formatters["text/html"].for_type(Styler, styler_html)


def styler_html(styler: Any) -> str | None:
    """HTML of a pandas Styler with its index and column labels escaped (customer ids).

    ``styler.format.escape`` escapes cell values only; labels are escaped here
    unless the notebook formats them itself (``format_index``).
    """
    for axis, funcs in ((0, "_display_funcs_index"), (1, "_display_funcs_columns")):
        if not getattr(styler, funcs, None):
            styler.format_index(escape="html", axis=axis)
    return styler._repr_html_()


def _number(value: float) -> str:
    """Tables show 4 significant digits, thousands separated, never 1.917e+04."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 1e-4:
        return f"{value:.2e}"
    return f"{value:,.4g}"


def export_dir() -> Path:
    """Where :func:`export` writes: ``$CRMLAB_EXPORT_DIR`` (set by ``crmlab report``), else
    ``reports/tables`` in the working directory."""
    env = os.environ.get(EXPORT_ENV)
    return Path(env) if env else Path.cwd() / "reports" / "tables"


def export(table: pd.DataFrame, name: str, *, index: bool = True) -> list[Path]:
    """Write ``table`` as ``<name>.csv`` and ``<name>.xlsx`` for the people who act on it.

    Parameters
    ----------
    table : DataFrame
        For instance every customer with their segment or CLV.
    name : str
        File stem, e.g. ``"customers_clv"``.
    index : bool
        Whether to write the index (customer ids usually are the index).

    Returns
    -------
    list of Path
        The files written.
    """
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    csv, xlsx = folder / f"{name}.csv", folder / f"{name}.xlsx"
    table.to_csv(csv, index=index)
    frame = table.copy()
    for col in frame.select_dtypes(include=["datetimetz"]).columns:
        frame[col] = frame[col].dt.tz_localize(None)
    frame.to_excel(xlsx, index=index, sheet_name=name[:31])
    with open(folder / EXPORTS_FILE, "a", encoding="utf-8") as manifest:  # the report's workbook
        manifest.write(json.dumps({"name": name, "rows": len(table)}) + "\n")
    display(
        HTML(
            f"<p><em>Exported {len(table):,} rows: <code>{html.escape(csv.name)}</code>, "
            f"<code>{html.escape(xlsx.name)}</code>.</em></p>"
        )
    )
    return [csv, xlsx]


@dataclass(frozen=True)
class Finding:
    """One sentence of an executive summary and the numbers it cites.

    ``template`` is a :meth:`str.format` template whose fields are the keys of
    ``numbers``; :attr:`text` is the sentence as printed, so the printed numbers are the
    numbers by construction and a test can check ``numbers`` against the exported
    tables. A finding from simulated data must say so in the sentence itself.

    Examples
    --------
    >>> Finding("{share:.0%} of customers lose money.", {"share": 0.406}).text
    '41% of customers lose money.'
    """

    template: str
    numbers: Mapping[str, Any] = field(default_factory=dict)
    simulated: bool = False

    def __post_init__(self) -> None:
        text = self.text  # fails early on a field the template names but numbers lack
        if self.simulated and "simulat" not in text.lower():
            raise ValueError(f"a finding from simulated data must say so: {text!r}")

    @property
    def text(self) -> str:
        """The sentence with its numbers formatted."""
        return self.template.format(**self.numbers)

    def record(self) -> dict[str, Any]:
        """Text, numbers and the simulated flag as plain JSON-ready values."""
        numbers = {k: _plain(v) for k, v in self.numbers.items()}
        return {"text": self.text, "numbers": numbers, "simulated": self.simulated}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Action:
    """A recommended action for a client: what to do, for whom, and how much it concerns.

    ``what`` is a :meth:`str.format` template in plain words whose fields are the keys of
    ``numbers`` (like :class:`Finding`); ``customers`` and ``value`` say how many
    customers and how much money the action concerns (``value`` in the report's
    currency, None where no money figure applies); ``list_file`` names the exported
    table that lists those customers, so the client can act on it.
    """

    verb: str  # "keep", "grow", "win back", "serve more cheaply", "test", ...
    what: str
    numbers: Mapping[str, Any] = field(default_factory=dict)
    customers: int | None = None
    value: float | None = None
    list_file: str | None = None

    @property
    def text(self) -> str:
        """The recommendation as printed."""
        return self.what.format(**self.numbers)

    def record(self) -> dict[str, Any]:
        """Every field as plain JSON-ready values, plus the printed text."""
        return {
            "verb": self.verb,
            "text": self.text,
            "numbers": {k: _plain(v) for k, v in self.numbers.items()},
            "customers": _plain(self.customers),
            "value": _plain(self.value),
            "list_file": self.list_file,
        }


# Model names, symbols and analyst shorthand a client summary must not use (issue 15): the
# client sentences say the same thing in plain words. Matched as whole words, case-sensitive
# for the abbreviations; :func:`analyst_terms_in` finds them in a text.
ANALYST_TERMS: tuple[str, ...] = (
    "MVC",
    "MGC",
    "BZ",
    "BIC",
    "AIC",
    "MAE",
    "RMSE",
    "CLV",
    "RFM",
    "SOW",
    "SCR",
    "P(alive)",
    "p_alive",
    "Pareto/NBD",
    "BG/NBD",
    "MBG/NBD",
    "NBD",
    "Gamma-Gamma",
    "sBG",
    "BdW",
    "Dirichlet",
    "Cram\u00e9r's V",
    "Cramer's V",
    "Spearman",
    "Wilson",
    "Parfitt",
    "log-likelihood",
    "p-value",
    "p =",
    "odds ratio",
    "chi-square",
    "whale curve",
    "posterior",
    "quantile",
    "decile",
)


def analyst_terms_in(text: str) -> list[str]:
    """The :data:`ANALYST_TERMS` that occur in ``text`` as whole words (empty: plain words).

    Examples
    --------
    >>> analyst_terms_in("Median P(alive) of the MGC group is 0.84.")
    ['MGC', 'P(alive)']
    """
    import re

    found = []
    for term in ANALYST_TERMS:
        plural = "s?" if term.isupper() else ""  # "BZs", "MVCs"
        pattern = rf"(?<![\w/]){re.escape(term)}{plural}(?![\w/])"
        flags = 0 if term.isupper() else re.IGNORECASE
        if re.search(pattern, text, flags):
            found.append(term)
    return found


def _as_findings(points: Sequence[Finding | str]) -> list[Finding]:
    return [
        p if isinstance(p, Finding) else Finding(p.replace("{", "{{").replace("}", "}}"))
        for p in points
    ]


def executive_summary(
    points: Sequence[Finding | str],
    title: str = "Executive summary",
    *,
    client: Sequence[Finding | str] | None = None,
    actions: Sequence[Action] = (),
    save: bool = True,
) -> None:
    """Show the report's key findings; the renderer moves this block to the top.

    Parameters
    ----------
    points : list of Finding or str
        The teaching/research edition's sentences, each made by a tested function in
        crmlab (plain text is accepted but cites no checked numbers).
    client : list of Finding or str, optional
        The same results in plain words for a client (no model names or symbols, every
        number with its unit, uncertainty in words); the client edition shows these
        instead of ``points``.
    actions : list of Action
        Recommended actions derived from the results, shown after the client summary.
    save : bool
        Also write the findings to ``executive_summary.json`` (and the client sentences
        and actions to ``client_summary.json``) beside the exported tables, so a test can
        check every cited number against them.
    """
    findings = _as_findings(points)
    plain = _as_findings(client) if client is not None else None
    if save:
        folder = export_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SUMMARY_FILE).write_text(
            json.dumps([f.record() for f in findings], indent=1, default=str), encoding="utf-8"
        )
        if plain is not None or actions:
            record = {
                "client": [f.record() for f in plain or []],
                "actions": [a.record() for a in actions],
            }
            (folder / CLIENT_FILE).write_text(
                json.dumps(record, indent=1, default=str), encoding="utf-8"
            )
    items = "".join(f"<li>{html.escape(f.text)}</li>" for f in findings)
    blocks = f'<div class="{SUMMARY_CLASS}"><h2>{html.escape(title)}</h2><ul>{items}</ul></div>'
    if plain is not None or actions:
        told = "".join(f"<li>{html.escape(f.text)}</li>" for f in plain or [])
        todo = "".join(f"<li>{_action_html(a)}</li>" for a in actions)
        blocks += (
            f'<div class="{CLIENT_CLASS}"><h2>{html.escape(title)}</h2><ul>{told}</ul>'
            + (f"<h3>Recommended actions</h3><ul>{todo}</ul>" if todo else "")
            + "</div>"
        )
    display(HTML(blocks))


def _action_html(action: Action) -> str:
    """ "<strong>Keep:</strong> text", the verb left out where the text starts with it."""
    text = html.escape(action.text)
    if action.text.lower().startswith(action.verb.lower()):
        return text
    return f"<strong>{html.escape(action.verb.capitalize())}:</strong> {text}"


def data_report_html(frame: pd.DataFrame) -> str:
    """HTML of what reading ``frame`` kept and excluded (from its :class:`DataReport`).

    Rows read, rows kept, each reason rows were excluded with its count (for
    instance duplicates dropped, returns netted) and the notes; every value is
    escaped. A frame without a data report says so rather than showing nothing.
    """
    from crmlab import data

    report = data.data_report(frame)
    head = f'<div class="{DATA_REPORT_CLASS}"><h3>Data read</h3>'
    if report is None:
        return (
            f"{head}<p>{len(frame):,} rows; this frame carries no data report "
            "(it was not read through crmlab.load_source or read_transactions).</p></div>"
        )
    rows_in = int(getattr(report, "rows_in", len(frame)))
    rows_out = int(getattr(report, "rows_out", len(frame)))
    excluded = dict(getattr(report, "excluded", {}) or {})
    notes = list(getattr(report, "notes", []) or [])
    cells = [
        ("Source", str(getattr(report, "source", ""))),
        ("Rows read", f"{rows_in:,}"),
        ("Rows kept", f"{rows_out:,}"),
        ("Rows excluded", f"{sum(int(n) for n in excluded.values()):,}"),
    ]
    cells += [(f"Excluded: {why}", f"{int(n):,}") for why, n in excluded.items()]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in cells)
    items = "".join(f"<li>{html.escape(str(n))}</li>" for n in notes)
    words = f'<p class="{DATA_WORDS_CLASS}">{html.escape(data_in_words(frame, report))}</p>'
    return (
        f"{head}{words}<table><tbody>{body}</tbody></table>"
        f"{f'<ul>{items}</ul>' if items else ''}</div>"
    )


def data_in_words(frame: pd.DataFrame, report: Any) -> str:
    """One paragraph on the data for a client: transactions, customers, period, exclusions.

    Examples: "12,345 transactions by 2,357 customers, 1 January 1997 to 30 June 1998.
    Of 12,350 rows read, 5 were left out: exact duplicate rows (5)."
    """
    rows_in = int(getattr(report, "rows_in", len(frame)))
    excluded = {k: int(v) for k, v in (getattr(report, "excluded", {}) or {}).items() if int(v)}
    text = f"{len(frame):,} transactions"
    if "customer_id" in frame.columns:
        text += f" by {frame['customer_id'].nunique():,} customers"
    if "date" in frame.columns and len(frame):
        dates = pd.to_datetime(frame["date"], errors="coerce").dropna()
        if len(dates):
            first, last = dates.min(), dates.max()
            text += f", {first.day} {first:%B %Y} to {last.day} {last:%B %Y}"
    text += "."
    if excluded:
        reasons = "; ".join(f"{why} ({n:,})" for why, n in excluded.items())
        text += f" Of {rows_in:,} rows read, {sum(excluded.values()):,} were left out: {reasons}."
    else:
        text += f" All {rows_in:,} rows read were used."
    return text


def show_data_report(frame: pd.DataFrame) -> None:
    """Show what reading ``frame`` kept and excluded; a report places it in its data section.

    Call it right after loading the transactions
    (``reports.show_data_report(transactions)``): interactively it shows the counts
    under the cell; ``crmlab report`` moves it to the report's reproducibility block,
    next to the data source and its SHA-256, so nothing is dropped unseen.
    """
    display(HTML(data_report_html(frame)))
