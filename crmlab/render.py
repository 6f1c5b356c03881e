"""Execute a notebook with papermill and render it as a self-contained report.

One function, :func:`render_report`, does what ``crmlab report NAME`` does:

1. check the parameters against the notebook's ``parameters`` cell *before*
   anything runs (papermill itself only warns about unknown names);
2. execute the notebook with papermill (``CRMLAB_STATIC=1`` so widgets draw a
   static figure, ``CRMLAB_EXPORT_DIR`` = the report's folder so
   :func:`crmlab.reports.export` writes its CSV/Excel tables beside the report),
   keeping the executed notebook, also when a cell fails;
3. append a reproducibility block (versions, data source and SHA-256, every
   parameter, the date) and render an HTML page without code cells whose
   figures are embedded and which loads nothing from the internet;
4. optionally print that page to PDF with a locally installed headless chromium.

:func:`render_all` renders every notebook on its defaults (two processes) and
writes ``index.html`` linking them.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import datetime as dt
import functools
import html
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import nbformat

from crmlab.errors import DataError

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
STATIC_ENV = "CRMLAB_STATIC"
EXPORT_ENV = "CRMLAB_EXPORT_DIR"
SUMMARY_CLASS = "crmlab-summary"
DATA_REPORT_CLASS = "crmlab-data-report"
# reports run no script and load nothing from elsewhere: figures and formulas are data: URIs
CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
)
FORMATS = ("html", "pdf", "ipynb")
KEY_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn", "papermill")
_NAME = re.compile(r"^(\d+)_(.+)\.ipynb$")
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CHROMIUM_HINT = (
    "PDF needs a headless chromium on the PATH (Debian/Ubuntu: `apt-get install chromium`); "
    "the HTML report has been written and can be printed from any browser."
)


class ReportError(DataError):
    """A report could not be made: bad parameters, a failing cell, no such notebook."""


class ParameterError(ReportError):
    """Unknown parameter names or values of the wrong type; raised before anything runs."""


class NotAvailableError(ReportError):
    """The notebook needs crmlab features this version does not have (nothing ran)."""


class ExecutionError(ReportError):
    """A cell of the notebook failed; the partly executed notebook is kept."""


# ----------------------------------------------------------------------- notebooks


def list_notebooks(folder: str | Path | None = None) -> dict[str, Path]:
    """Notebooks ``NN_name.ipynb`` of ``folder`` by name (``customer_lifetime_value``)."""
    folder = Path(folder) if folder else NOTEBOOKS_DIR
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        match = _NAME.match(path.name)
        if match:
            found[match.group(2)] = path
    return found


def notebook_name(path: str | Path) -> str:
    """``04_customer_lifetime_value.ipynb`` -> ``customer_lifetime_value``."""
    path = Path(path)
    match = _NAME.match(path.name)
    return match.group(2) if match else path.stem


def find_notebook(name: str, folder: str | Path | None = None) -> Path:
    """The notebook called ``name`` (without number and extension), or a path to one."""
    candidate = Path(name)
    if candidate.suffix == ".ipynb" and candidate.exists():
        return candidate
    available = list_notebooks(folder)
    if name in available:
        return available[name]
    raise ReportError(
        f"no notebook called {name!r}; choose one of: {', '.join(available) or '(none)'} "
        "(`crmlab report --list` shows them with their parameters)."
    )


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's ``parameters`` cell."""

    name: str
    type: str
    default: Any
    help: str


def _parameters_cell(nb: nbformat.NotebookNode) -> str:
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return cell.source
    return ""


def notebook_parameters(path: str | Path) -> dict[str, Parameter]:
    """The notebook's parameters: name, declared type, literal default, comment.

    Read with :mod:`ast` from the cell tagged ``parameters`` (papermill's
    ``inspect_notebook`` drops lines whose comment contains ``=``, such as
    ``column_map: str = ""  # e.g. customer_id=Cust``). Each parameter must be
    a literal; the type is the annotation, else the default's type.
    """
    source = _parameters_cell(nbformat.read(path, as_version=4))
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ReportError(
            f"{Path(path).name}: the parameters cell is not valid Python: {exc}"
        ) from None
    lines = source.splitlines()
    out: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value, note = node.target.id, node.value, ast.unparse(node.annotation)
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, value, note = node.targets[0].id, node.value, ""
        else:
            continue
        try:
            default = ast.literal_eval(value) if value is not None else None
        except ValueError:
            raise ReportError(
                f"{Path(path).name}: parameter {name!r} is not a literal "
                f"({ast.unparse(value)}); papermill cannot override derived values."
            ) from None
        kind = note.split("[")[0] if note else type(default).__name__
        span = lines[node.lineno - 1 : node.end_lineno]  # a formatter may wrap long lines
        comment = next((c for c in map(_comment, span) if c), "")
        out[name] = Parameter(name, kind, default, comment)
    return out


def _comment(line: str) -> str:
    """The ``# comment`` of a line of code (tokenised, so ``"#"`` in strings is kept)."""
    import io
    import tokenize

    try:
        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type == tokenize.COMMENT:
                return tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        return ""
    return ""


def describe_parameters(path: str | Path) -> str:
    """Readable listing of a notebook's parameters: name, type, default and comment."""
    params = notebook_parameters(path)
    if not params:
        return "    (no parameters cell)"
    width = max(len(p.name) for p in params.values())
    lines = []
    for p in params.values():
        lines.append(f"    {p.name:<{width}}  {p.type:<5}  = {p.default!r:<12}  {p.help}")
    return "\n".join(lines)


MAX_PARAMETERS_FILE_BYTES = 1_000_000
MAX_VALUE_CHARS = 100_000  # longest text a parameter may hold (a column map, an SQL query)
MAX_VALUE_ITEMS = 10_000  # most items (nested, counted) in a list or mapping parameter
MAX_VALUE_DEPTH = 10


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters, built without the full repr.

    A 10 MB string becomes its first ``limit`` characters and ``... (N characters)``;
    nested containers are shown a few items and levels deep (:mod:`reprlib`), so a
    value made to exhaust memory cannot do so in an error message.
    """
    import reprlib

    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict = 3, 6, 6, 6
    short.maxstring = short.maxother = short.maxlong = limit
    text = short.repr(value)
    return text if len(text) <= 2 * limit else text[: 2 * limit] + "..."


def _check_value(name: str, value: Any) -> None:
    """Refuse parameter values of an unexpected type or size before anything formats them."""
    stack = [(value, 0)]
    items = 0
    while stack:
        item, depth = stack.pop()
        items += 1
        if items > MAX_VALUE_ITEMS or depth > MAX_VALUE_DEPTH:
            raise ParameterError(
                f"parameter {short_repr(name)} is too large: at most {MAX_VALUE_ITEMS:,} items "
                f"nested {MAX_VALUE_DEPTH} levels deep."
            )
        if isinstance(item, str):
            if len(item) > MAX_VALUE_CHARS:
                raise ParameterError(
                    f"parameter {short_repr(name)} is too long: {short_repr(item)}; "
                    f"at most {MAX_VALUE_CHARS:,} characters."
                )
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif not isinstance(item, bool | int | float | dt.date | type(None)):
            raise ParameterError(
                f"parameter {short_repr(name)} holds a {type(item).__name__}; parameters are "
                "text, numbers, true/false, lists and mappings."
            )


def literal_parameter(name: str, text: str) -> Any:
    """A list or mapping parameter written as Python/JSON text (``"{'sheet': 'Orders'}"``)."""
    _check_value(name, text)
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, RecursionError, MemoryError, TypeError):
        raise ParameterError(
            f"parameter {short_repr(name)}: {short_repr(text)} is not a literal list or "
            "mapping, e.g. \"{'sheet': 'Orders'}\" or \"[0.01, 0.04]\"."
        ) from None


def load_parameters_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML parameters file safely: ``name: value`` per line.

    At most :data:`MAX_PARAMETERS_FILE_BYTES`; plain YAML only (no ``!!python`` or
    other tags: the safe loader); aliases (``*name``) are refused, so a few hundred
    bytes cannot expand into billions of values. A syntax error becomes a
    :class:`ParameterError` naming the line and column.
    """
    import yaml

    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_PARAMETERS_FILE_BYTES:
            raise ParameterError(
                f"parameters file {path} has {size:,} bytes; at most "
                f"{MAX_PARAMETERS_FILE_BYTES:,} are read (parameters are short values)."
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"cannot read parameters file {path}: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise ParameterError(
            f"parameters file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                mark = event.start_mark
                raise ParameterError(
                    f"parameters file {path}, line {mark.line + 1}, column {mark.column + 1}: "
                    f"YAML aliases (*{event.anchor}) are not allowed; write the value out."
                )
            return super().compose_node(parent, index)

    try:
        loaded = yaml.load(text, Loader=Loader)  # a SafeLoader that refuses aliases
    except yaml.MarkedYAMLError as exc:
        mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = short_repr(str(exc.problem or exc.context or "invalid YAML"), 200)[1:-1]
        if exc.context and context and exc.problem:
            problem += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
        hint = (
            " Only plain values are allowed (text, numbers, true/false, lists, mappings)."
            if isinstance(exc, yaml.constructor.ConstructorError)
            else ""
        )
        raise ParameterError(f"parameters file {path}{where}: {problem}.{hint}") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"parameters file {path}: {short_repr(str(exc), 200)}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParameterError(
            f"parameters file {path} must be a mapping 'name: value', got {type(loaded).__name__}."
        )
    bad = [k for k in loaded if not isinstance(k, str)]
    if bad:
        raise ParameterError(
            f"parameters file {path}: parameter names are text, got {short_repr(bad[0])}."
        )
    return loaded


_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def _coerce(value: Any, param: Parameter) -> Any:
    """``value`` converted to the parameter's declared type, or ReportError."""
    kind = param.type
    _check_value(param.name, value)
    bad = ParameterError(
        f"parameter {param.name!r} expects {kind} (default {short_repr(param.default)}), "
        f"got {short_repr(value)}."
    )
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, dt.date):  # YAML reads 1998-06-30 unquoted as a date
            return value.isoformat()
        raise bad
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise bad
    if kind == "int":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise bad from None
        raise bad
    if kind == "float":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise bad from None
        if not isinstance(value, int | float):
            raise bad
        if not math.isfinite(value):
            raise ParameterError(
                f"parameter {param.name!r} expects a finite number, got {short_repr(value)}."
            )
        return float(value)
    if kind in ("list", "dict", "tuple"):
        if isinstance(value, str):
            try:
                value = literal_parameter(param.name, value)
            except ParameterError:
                raise bad from None
        if type(value).__name__ != kind and not (kind == "tuple" and isinstance(value, list)):
            raise bad
        return value
    return value


def check_parameters(path: str | Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``parameters`` against the notebook before anything runs.

    Unknown names and values that cannot be read as the declared type raise
    :class:`ReportError` listing the valid parameters. Strings from the command
    line are converted (``"0.3"`` -> 0.3 for a float parameter).

    Returns
    -------
    dict
        The given parameters, converted to their declared types.
    """
    declared = notebook_parameters(path)
    unknown = [k for k in parameters if k not in declared]
    if unknown:
        raise ParameterError(
            f"{Path(path).name}: unknown parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(short_repr, unknown[:5]))}"
            f"{f' and {len(unknown) - 5} more' if len(unknown) > 5 else ''}. "
            f"Valid parameters:\n{describe_parameters(path)}"
        )
    converted = {}
    for key, value in parameters.items():
        try:
            converted[key] = _coerce(value, declared[key])
        except ParameterError as exc:
            raise ParameterError(
                f"{Path(path).name}: {exc} Valid parameters:\n{describe_parameters(path)}"
            ) from None
    return converted


def missing_requirements(path: str | Path) -> list[str]:
    """Dotted names the notebook lists in ``metadata.crmlab.requires`` that do not resolve.

    A notebook written against a crmlab function that has not been released yet
    declares it (``{"crmlab": {"requires": ["crmlab.models.BGNBD"]}}``) so that a
    report run says what is missing instead of failing half-way.
    """
    import importlib

    nb = nbformat.read(path, as_version=4)
    missing = []
    for name in nb.metadata.get("crmlab", {}).get("requires", []):
        parts = name.split(".")
        try:
            obj: Any = importlib.import_module(parts[0])
            for i, part in enumerate(parts[1:], start=1):
                try:
                    obj = getattr(obj, part)
                except AttributeError:
                    obj = importlib.import_module(".".join(parts[: i + 1]))
        except (ImportError, AttributeError):
            missing.append(name)
    return missing


# ---------------------------------------------------------------------- execution


@dataclass
class Report:
    """What :func:`render_report` wrote."""

    name: str
    title: str
    folder: Path
    notebook: Path
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    waiting: bool = False  # needs crmlab features not available yet (nothing ran)

    @property
    def html(self) -> Path:
        return self.folder / f"{self.name}.html"


def _failure_message(name: str, nb_path: Path, exc: Exception, shown: Path | None = None) -> str:
    """One readable message: notebook, cell, error, where the partial notebook is."""
    where = "a cell"
    if nb_path.exists():
        cells = [
            c
            for c in nbformat.read(nb_path, as_version=4).cells
            if not {"injected-parameters", "papermill-error-cell-tag"}
            & set(c.metadata.get("tags", []))
        ]
        for number, cell in enumerate(cells, start=1):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                lines = [ln for ln in cell.source.splitlines() if ln.strip()]
                where = f"cell {number}"
                if cell.get("execution_count"):
                    where += f" (In [{cell.execution_count}])"
                if lines:
                    where += f" `{lines[0][:80]}`"
                break
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    return (
        f"notebook {name!r} failed in {where}: {ename}: {evalue}\n"
        f"The partly executed notebook is kept at {shown or nb_path} "
        "(open it to see the traceback)."
    )


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("crmlab", *KEY_PACKAGES):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


_FILE_URLS = ("sqlite:///", "duckdb:///")


def resolve_data_path(data_path: str, cwd: str | Path | None = None) -> str:
    """``data_path`` made absolute against ``cwd`` (default: the current directory).

    The notebook runs in ``notebooks/``, so a relative client path must be fixed
    before it gets there, or it names another file (or none). File paths and the
    file of ``sqlite:///file.db`` / ``duckdb:///file.duckdb`` URLs are resolved;
    other URLs (``postgresql://...``), absolute paths and ``sqlite://`` (memory)
    are returned unchanged.
    """
    if not data_path:
        return data_path
    base = Path(cwd) if cwd is not None else Path.cwd()
    for prefix in _FILE_URLS:
        if data_path.startswith(prefix):
            file, sep, options = data_path[len(prefix) :].partition("?")
            if not file or file.startswith("/") or file.startswith(":memory:"):
                return data_path
            return prefix + str((base / Path(file).expanduser()).resolve()) + sep + options
    if "://" in data_path:
        return data_path
    path = Path(data_path).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def data_file(data_path: str) -> Path | None:
    """The local file a ``data_path`` reads (a file path or a sqlite/duckdb URL), or None."""
    if not data_path:
        return None
    for prefix in _FILE_URLS:
        if data_path.startswith(prefix):
            file = data_path[len(prefix) :].partition("?")[0]
            return Path(file) if file and not file.startswith(":memory:") else None
    return None if "://" in data_path else Path(data_path)


def data_source(parameters: Mapping[str, Any]) -> tuple[str, str]:
    """(description, SHA-256) of the data a notebook read, from its parameters.

    A client's file is hashed; a bundled dataset's SHA-256 comes from the manifest
    (the loader checks the file against it). SQL sources have no file to hash.
    """
    from crmlab import data

    path = str(parameters.get("data_path") or "")
    if path:
        file = data_file(path)
        if file is not None and file.is_file():
            kind = "file" if file == Path(path) else f"{path.split(':')[0]} database"
            return f"{kind} {file.resolve()}", data.sha256(file)
        return f"{path.split('://')[0]} source {path.split('@')[-1]}", "(a database: no file hash)"
    name = str(parameters.get("dataset") or "")
    if name:
        try:
            entry = data._entry(name)
        except DataError:
            return f"dataset {name}", "(unknown dataset)"
        return f"bundled dataset {name} (datasets/{entry['file']})", str(entry["sha256"])
    return "(set inside the notebook)", "(not applicable)"


def reproducibility_html(
    parameters: Mapping[str, Any], when: dt.datetime | None = None, *, data_reports: str = ""
) -> str:
    """The block that ends every report: versions, data and its SHA-256, parameters, date.

    ``data_reports`` is the (sanitised) HTML of :func:`crmlab.reports.show_data_report`
    blocks: rows read, kept and excluded and why, placed under the data source.
    """
    when = when or dt.datetime.now(dt.UTC)
    source, digest = data_source(parameters)
    versions = ", ".join(f"{k} {v}" for k, v in _versions().items())
    rows = "".join(
        f"<tr><td><code>{html.escape(k)}</code></td><td><code>{html.escape(repr(v))}</code></td></tr>"
        for k, v in parameters.items()
    )
    return (
        '<section class="crmlab-repro"><h2>Reproducibility</h2>'
        f"<p><strong>Made</strong> {when:%Y-%m-%d %H:%M} UTC with {html.escape(versions)}.</p>"
        f"<p><strong>Data</strong> {html.escape(source)}; SHA-256 "
        f"<code>{html.escape(digest)}</code>.</p>"
        f"{data_reports}"
        "<table><thead><tr><th>Parameter</th><th>Value</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def execute(
    path: str | Path,
    output: str | Path,
    parameters: Mapping[str, Any],
    export_dir: str | Path,
    *,
    progress: bool = False,
) -> None:
    """Run ``path`` with papermill into ``output`` (static widgets, exports into export_dir)."""
    import logging

    import papermill

    # papermill's own parameter parser warns about comments containing "=" (e.g. the
    # column_map example); crmlab reads parameters with ast instead, so that is noise
    # (it also warns "Passed unknown parameter" for them; crmlab has checked the names)
    logging.getLogger("papermill.translators").setLevel(logging.ERROR)
    logging.getLogger("papermill").setLevel(logging.ERROR)
    saved = {k: os.environ.get(k) for k in (STATIC_ENV, EXPORT_ENV, "MPLBACKEND")}
    os.environ[STATIC_ENV] = "1"
    os.environ[EXPORT_ENV] = str(Path(export_dir).resolve())
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        papermill.execute_notebook(
            str(path),
            str(output),
            parameters=dict(parameters),
            kernel_name="python3",
            progress_bar=progress,
            cwd=str(Path(path).resolve().parent),
            log_output=False,
            # the kernel's start-up notice about TCP transport is noise on a terminal
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _render_into(
    work: Path,
    target: Path,
    path: Path,
    stem: str,
    given: dict[str, Any],
    effective: dict[str, Any],
    formats: tuple[str, ...],
    progress: bool,
) -> Report:
    """Execute and render into ``work``, then move it to ``target`` (also when a cell fails)."""
    nb_work = work / f"{stem}.ipynb"
    try:
        execute(path, nb_work, given, work, progress=progress)
    except Exception as exc:  # papermill raises PapermillExecutionError for a failing cell
        if type(exc).__name__ != "PapermillExecutionError":
            raise ExecutionError(f"notebook {stem!r} could not be executed: {exc}") from exc
        message = _failure_message(stem, nb_work, exc, shown=target / nb_work.name)
        if nb_work.exists():  # keep the partly executed notebook, alone: no stale report beside
            publish(work, target)
        raise ExecutionError(message) from None
    nb = nbformat.read(nb_work, as_version=4)
    title = notebook_title(nb) or stem.replace("_", " ").capitalize()
    written = [nb_work]
    if "html" in formats or "pdf" in formats:
        page_path = work / f"{stem}.html"
        page_path.write_text(to_html(nb, effective, title=title), encoding="utf-8")
        written.append(page_path)
    if "pdf" in formats:
        written.append(print_pdf(work / f"{stem}.html"))
    written.extend(sorted(p for p in work.iterdir() if p.suffix in (".csv", ".xlsx")))
    publish(work, target)
    return Report(
        stem, title, target, target / nb_work.name, files=[target / p.name for p in written]
    )


def refuse_overwriting_inputs(target: Path, inputs: Mapping[str, Path | str | None]) -> None:
    """Raise :class:`ReportError` when an input is (inside) the report folder ``target``.

    Each run replaces ``target`` as a whole, so an input file there (``--data``
    pointing at last run's ``customers.csv``, a parameters file, the notebook)
    would be lost; a file elsewhere that *is* one of the outputs (a hard link or
    symbolic link) is refused as well.
    """
    folder = target.resolve()
    outputs = {}
    if folder.is_dir():
        for file in folder.rglob("*"):
            if file.is_file():
                st = file.stat()
                outputs[(st.st_dev, st.st_ino)] = file
    for what, given in inputs.items():
        if given is None or str(given) == "":
            continue
        path = Path(given)
        real = path.resolve()
        same = None
        if path.exists():
            st = path.stat()
            same = outputs.get((st.st_dev, st.st_ino))
        inside = real == folder or folder in real.parents
        if inside or same is not None:
            raise ReportError(
                f"{what} {path} is {'inside' if inside else 'the same file as'} "
                f"{folder if inside else same}, which this report replaces; the input would "
                "be lost. Move the input elsewhere or choose another --out."
            )


@contextlib.contextmanager
def locked(lock_path: Path, *, what: str, timeout: float = 3600) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (``fcntl.flock``) while the block runs.

    A second run for the same report waits (saying so on stderr) and raises
    :class:`ReportError` after ``timeout`` seconds. Where ``fcntl`` does not exist
    (Windows) runs are not serialised; each still publishes its folder atomically.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(
                f"crmlab: another run is writing {what}; waiting for it (up to {timeout:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
            deadline = time.monotonic() + timeout
            while True:
                time.sleep(0.2)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ReportError(
                            f"another crmlab run was still writing {what} after {timeout:.0f} s "
                            f"(lock {lock_path}); let it finish, or choose another --out."
                        ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(work: Path, target: Path) -> None:
    """Move the finished folder ``work`` to ``target``, replacing the previous report.

    The old folder is renamed aside, then ``work`` renamed into place (two renames
    in one file system, each atomic), then the old one deleted: a reader sees the
    old report or the new one, never a mix of two runs.
    """
    aside = None
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ReportError(f"{target} exists and is not a report folder; remove it or rename it.")
    if target.exists():
        aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
        os.replace(target, aside)
    os.replace(work, target)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def _remove_leftovers(out: Path, stem: str) -> None:
    """Delete the working folders of runs that died (called under the report's lock)."""
    pattern = re.compile(rf"\.{re.escape(stem)}\.(tmp|old)-[0-9a-f]{{32}}")
    for entry in out.iterdir():
        if pattern.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def render_report(
    name: str | Path,
    parameters: Mapping[str, Any] | None = None,
    out: str | Path = "reports",
    *,
    formats: tuple[str, ...] = ("html",),
    progress: bool = False,
    folder: str | Path | None = None,
    inputs: Mapping[str, str | Path] | None = None,
    lock_timeout: float = 3600,
) -> Report:
    """Execute a notebook and render its report into ``out/<name>/``.

    Parameters
    ----------
    name : str or Path
        Notebook name without number and extension (``customer_lifetime_value``)
        or a path to an ``.ipynb`` file.
    parameters : mapping
        Values for the notebook's parameters (checked and converted first).
    out : path
        Reports folder; the report goes to ``out/<name>/``.
    formats : tuple of {"html", "pdf", "ipynb"}
        The executed notebook is always kept; "pdf" also needs "html" (added).
    progress : bool
        Papermill's progress bar (the CLI shows it on a terminal only).
    folder : path, optional
        Where to look up notebooks by name (default: the repository's notebooks/).
    inputs : mapping, optional
        Other input files by what they are (``{"parameters file": path}``): like
        the data file and the notebook, they may not lie in the report folder.
    lock_timeout : float
        Seconds to wait for another run writing the same report before giving up.

    Returns
    -------
    Report
        Paths written. Raises :class:`ReportError` on bad parameters (nothing
        runs) or a failing cell (the partial executed notebook is kept).

    Notes
    -----
    The run writes into a hidden folder beside the report and moves it into
    place when done (:func:`publish`), holding a lock on ``out/.<name>.lock``
    meanwhile, so concurrent runs to one ``out`` never mix their files.
    """
    start = time.perf_counter()
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ReportError(f"unknown format {bad[0]!r}; choose from {', '.join(FORMATS)}.")
    path = find_notebook(str(name), folder)
    stem = notebook_name(path)
    given = check_parameters(path, parameters or {})
    missing = missing_requirements(path)
    if missing:
        raise NotAvailableError(
            f"notebook {stem!r} needs {', '.join(missing)}, which this version of crmlab "
            "does not have yet; nothing was run."
        )
    if isinstance(given.get("data_path"), str):  # the notebook runs in its own folder
        given["data_path"] = resolve_data_path(given["data_path"])
    declared = notebook_parameters(path)
    effective = {k: given.get(k, p.default) for k, p in declared.items()}
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {out} is a file, not a folder; choose a folder for the reports.")
    out.mkdir(parents=True, exist_ok=True)
    target = out / stem
    data = data_file(str(effective.get("data_path") or ""))
    refuse_overwriting_inputs(target, {"--data": data, "notebook": path, **dict(inputs or {})})
    with locked(out / f".{stem}.lock", what=str(target), timeout=lock_timeout):
        _remove_leftovers(out, stem)
        work = out / f".{stem}.tmp-{uuid.uuid4().hex}"
        work.mkdir()
        try:
            report = _render_into(work, target, path, stem, given, effective, formats, progress)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    report.seconds = time.perf_counter() - start
    return report


# ------------------------------------------------------------------------ rendering


def notebook_title(nb: nbformat.NotebookNode) -> str:
    """The first ``# Title`` of the notebook's markdown cells."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def _pop_summaries(nb: nbformat.NotebookNode, marker: str = SUMMARY_CLASS) -> list[str]:
    """Remove the outputs marked ``marker`` (executive summaries) and return their HTML."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        keep = []
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/html", "")
            text = "".join(text) if isinstance(text, list) else text
            if f'class="{marker}"' in text:
                found.append(text)
            else:
                keep.append(output)
        cell.outputs = keep
    return found


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


def to_html(
    nb: nbformat.NotebookNode, parameters: Mapping[str, Any], *, title: str = "Report"
) -> str:
    """A self-contained HTML page of an executed notebook, without code cells.

    Figures are embedded as data URIs, formulas are rendered to embedded SVG,
    widget views and state are removed, the executive summary is moved to the
    top, and a reproducibility block ends the page. Nothing is loaded from the
    network (no MathJax, require.js or web fonts). Outputs on stderr stay visible.
    """
    from nbconvert import HTMLExporter

    nb = nbformat.from_dict(nb)
    summaries = _pop_summaries(nb)
    data_reports = _pop_summaries(nb, DATA_REPORT_CLASS)
    _drop_widgets(nb)
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
    return PAGE.format(
        title=html.escape(title),
        csp=CSP,
        css=CSS,
        summary=sanitize_html("\n".join(summaries)),
        body=sanitize_html(body),
        repro=reproducibility_html(parameters, data_reports=sanitize_html("\n".join(data_reports))),
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


def find_chromium() -> str | None:
    """Path of a chromium/chrome executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run headless chromium with offline-friendly flags and a throwaway profile."""
    exe = find_chromium()
    if exe is None:
        raise ReportError(CHROMIUM_HINT)
    with tempfile.TemporaryDirectory(prefix="crmlab-chromium-") as profile:
        return subprocess.run(
            [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def print_pdf(html_path: str | Path) -> Path:
    """Print an HTML report to PDF with headless chromium (offline)."""
    html_path = Path(html_path).resolve()
    pdf = html_path.with_suffix(".pdf")
    result = chromium(
        ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", html_path.as_uri()], timeout=180
    )
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise ReportError(f"chromium could not print {html_path} to PDF: {result.stderr[-500:]}")
    return pdf


# -------------------------------------------------------------------------- --all


def _render_one(args: tuple[str, str, dict[str, Any], tuple[str, ...], str | None]) -> Report:
    name, out, params, formats, folder = args
    # two notebooks run side by side: one BLAS/OpenMP thread per kernel, or their thread
    # pools fight over the cores (measured: 61 s -> 33 s for four reports on 2 cores)
    for var in THREAD_VARS:
        os.environ.setdefault(var, "1")
    try:
        return render_report(name, params, out, formats=formats, folder=folder)
    except ReportError as exc:
        path = find_notebook(name, folder)
        stem = notebook_name(path)
        return Report(
            stem,
            stem,
            Path(out) / stem,
            Path(out) / stem / f"{stem}.ipynb",
            error=str(exc),
            waiting=isinstance(exc, NotAvailableError),
        )


def render_all(
    out: str | Path = "reports",
    *,
    formats: tuple[str, ...] = ("html",),
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    folder: str | Path | None = None,
    workers: int = 2,
) -> tuple[list[Report], Path]:
    """Render every notebook (on its defaults unless ``parameters[name]``) and an index.

    Notebooks run in ``workers`` processes (kernel start-ups overlap). A failing
    notebook does not stop the others; it is listed in the index with its error.

    Returns
    -------
    (reports, index_path)
    """
    names = list(list_notebooks(folder))
    parameters = parameters or {}
    jobs = [
        (n, str(out), dict(parameters.get(n, {})), tuple(formats), str(folder) if folder else None)
        for n in names
    ]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            reports = list(pool.map(_render_one, jobs))
    else:
        saved = {var: os.environ.get(var) for var in THREAD_VARS}
        try:
            reports = [_render_one(job) for job in jobs]
        finally:
            for var, value in saved.items():
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value
    index = write_index(reports, out)
    return reports, index


def write_index(reports: list[Report], out: str | Path) -> Path:
    """``out/index.html``: one link per report (and the error of any that failed)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for rep in reports:
        if rep.error:
            status = "not available yet" if rep.waiting else "failed"
            items.append(
                f'<li class="failed"><strong>{html.escape(rep.title)}</strong>: {status} '
                f"<pre>{html.escape(rep.error)}</pre></li>"
            )
            continue
        rel = rep.html.relative_to(out).as_posix()
        tables = [p for p in rep.files if p.suffix in (".csv", ".xlsx")]
        extra = ", ".join(
            f'<a href="{html.escape(p.relative_to(out).as_posix())}">{html.escape(p.name)}</a>'
            for p in tables
        )
        nb_rel = rep.notebook.relative_to(out).as_posix()
        items.append(
            f'<li><a class="report" href="{html.escape(rel)}">{html.escape(rep.title)}</a>'
            f' <span class="meta">(<a href="{html.escape(nb_rel)}">executed notebook</a>'
            f"{'; tables: ' + extra if extra else ''})</span></li>"
        )
    when = dt.datetime.now(dt.UTC)
    body = (
        f"<p>Reports rendered {when:%Y-%m-%d %H:%M} UTC with crmlab {_versions()['crmlab']}."
        f'</p><ul class="crmlab-index">{"".join(items)}</ul>'
    )
    page = PAGE.format(title="crmlab reports", csp=CSP, css=CSS, summary="", body=body, repro="")
    index = out / "index.html"
    partial = out / f".index.html.tmp-{uuid.uuid4().hex}"
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, index)  # a reader never sees half an index
    return index


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="generator" content="crmlab report">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main class="crmlab-report">
<header><h1>{title}</h1></header>
{summary}
{body}
{repro}
</main>
</body>
</html>
"""

CSS = """
:root { --ink:#1f2933; --muted:#52606d; --line:#d9e2ec; --accent:#0b6e99; --bg:#ffffff; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; background:#f5f7fa; color:var(--ink);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
main.crmlab-report { max-width: 960px; margin: 0 auto; background: var(--bg);
  padding: 1.5rem 2rem 3rem; min-height: 100vh; }
header h1 { font-size: 1.9rem; line-height: 1.2; margin: .5rem 0 1rem;
  border-bottom: 3px solid var(--accent); padding-bottom: .5rem; }
h2 { font-size: 1.35rem; margin-top: 2rem; } h3 { font-size: 1.12rem; }
a { color: var(--accent); }
img { max-width: 100%; height: auto; }
img.crmlab-math { vertical-align: middle; max-height: 2.2em; }
.crmlab-math-block { text-align: center; overflow-x: auto; }
pre, code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; }
pre { white-space: pre-wrap; word-break: break-word; }
.crmlab-summary { background: #eef6fb; border-left: 5px solid var(--accent);
  padding: .4rem 1.2rem .8rem; margin: 0 0 1.5rem; border-radius: 4px; }
.crmlab-summary h2 { margin-top: .6rem; }
.cell, .jp-Cell { margin: .4rem 0; }
.output_area, .jp-OutputArea-output { overflow-x: auto; }
.output_png img, .jp-RenderedImage img { display: block; margin: .5rem auto; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .92rem;
  font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .6rem; text-align: right; }
th { background: #f0f4f8; }
td:first-child, th:first-child { text-align: left; }
.rendered_html table, .output_html table { display: block; overflow-x: auto; max-width: 100%; }
.output_stderr, .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"] {
  background: #fdecea; border-left: 4px solid #c0392b; padding: .2rem .6rem; }
.output_error { background: #fdecea; }
.crmlab-repro { margin-top: 3rem; border-top: 1px solid var(--line); color: var(--muted);
  font-size: .9rem; }
.crmlab-repro code { word-break: break-all; }
.crmlab-index li { margin: .5rem 0; } .crmlab-index .meta { color: var(--muted); font-size: .9rem; }
.crmlab-index li.failed { color: #c0392b; }
.anchor-link { display: none; }
@media (max-width: 640px) {
  body { font-size: 15px; }
  main.crmlab-report { padding: 1rem .8rem 2rem; }
  header h1 { font-size: 1.45rem; }
  th, td { padding: .25rem .4rem; }
}
@media print {
  body { background: #fff; } main.crmlab-report { max-width: none; padding: 0; }
  .output_png img { page-break-inside: avoid; }
}
"""

__all__ = [
    "FORMATS",
    "ExecutionError",
    "NotAvailableError",
    "ParameterError",
    "Parameter",
    "Report",
    "ReportError",
    "check_parameters",
    "data_file",
    "data_source",
    "resolve_data_path",
    "sanitize_html",
    "describe_parameters",
    "find_chromium",
    "find_notebook",
    "list_notebooks",
    "literal_parameter",
    "load_parameters_file",
    "short_repr",
    "missing_requirements",
    "notebook_parameters",
    "locked",
    "print_pdf",
    "publish",
    "refuse_overwriting_inputs",
    "render_all",
    "render_report",
    "to_html",
    "write_index",
]

if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the `crmlab report` command")
