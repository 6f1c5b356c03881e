"""Executing a notebook into a report folder: papermill, locks, atomic publication.

:func:`render_report` is what ``crmlab report NAME`` does:

1. check the parameters against the notebook's ``parameters`` cell *before*
   anything runs (papermill itself only warns about unknown names);
2. execute the notebook with papermill (``CRMLAB_STATIC=1`` so widgets draw a static
   figure, ``CRMLAB_EXPORT_DIR`` = the report's folder so :func:`crmlab.reports.export`
   writes its tables beside the report, ``CRMLAB_SOLUTIONS`` for the instructor
   edition), keeping the executed notebook, also when a cell fails;
3. render the edition's HTML page (:mod:`crmlab.report.html`), the workbook of its
   tables (:mod:`crmlab.report.excel`) and, when asked, a PDF (:mod:`crmlab.report.pdf`);
4. publish the folder atomically under a per-report lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
import platform
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import nbformat

from crmlab.errors import DataError
from crmlab.report.errors import ExecutionError, ReportError
from crmlab.report.names import (
    CLIENT,
    CLIENT_SUFFIX,
    EDITIONS,
    EXPORT_ENV,
    INSTRUCTOR_SUFFIX,
    INSTRUCTOR_TITLE,
    STATIC_ENV,
    TEACHING,
)
from crmlab.report.parameters import (
    check_parameters,
    find_notebook,
    notebook_name,
    notebook_number,
    notebook_parameters,
)

FORMATS = ("html", "pdf", "ipynb")
KEY_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn", "papermill")


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
    edition: str = TEACHING
    solutions: bool = False
    notes: list[str] = field(default_factory=list)  # build log: fallbacks, skipped PDF

    @property
    def html(self) -> Path:
        return self.folder / f"{self.name}.html"

    @property
    def pdf(self) -> Path:
        return self.folder / f"{self.name}.pdf"

    @property
    def workbook(self) -> Path:
        return self.folder / f"{self.name}-tables.xlsx"


#: how long a kernel may take to start (papermill's default, 60 s, was exceeded once on a
#: 2-core machine busy with two test workers and a Spark JVM)
KERNEL_START_SECONDS = 180


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

    A client's file is hashed; Parquet files named by a folder or glob get the SHA-256
    of their sorted names and SHA-256s (one line ``name  sha256`` each); a bundled
    dataset's SHA-256 comes from the manifest (the loader checks the file against it).
    SQL sources have no file to hash.
    """
    import hashlib

    from crmlab import data

    path = str(parameters.get("data_path") or "")
    if path:
        file = data_file(path)
        if file is not None and file.is_file():
            kind = "file" if file == Path(path) else f"{path.split(':')[0]} database"
            return f"{kind} {file.resolve()}", data.sha256(file)
        if "://" not in path and (any(c in path for c in "*?[") or Path(path).is_dir()):
            from crmlab.engines.duckdb import parquet_files

            try:
                files = sorted(parquet_files(path))
            except DataError:
                return f"Parquet files {path} (none found)", "(no files)"
            lines = "".join(f"{Path(f).name}  {data.sha256(Path(f))}\n" for f in files)
            digest = hashlib.sha256(lines.encode("utf-8")).hexdigest()
            return f"{len(files):,} Parquet files {path}", f"{digest} (of the files' SHA-256s)"
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
    env: Mapping[str, str] | None = None,
) -> None:
    """Run ``path`` with papermill into ``output`` (static widgets, exports into export_dir).

    ``env`` holds further variables the kernel needs (``CRMLAB_SOLUTIONS``); all are
    restored after the run.
    """
    import logging

    import papermill

    # papermill's own parameter parser warns about comments containing "=" (e.g. the
    # column_map example); crmlab reads parameters with ast instead, so that is noise
    # (it also warns "Passed unknown parameter" for them; crmlab has checked the names)
    logging.getLogger("papermill.translators").setLevel(logging.ERROR)
    logging.getLogger("papermill").setLevel(logging.ERROR)
    env = dict(env or {})
    saved = {k: os.environ.get(k) for k in (STATIC_ENV, EXPORT_ENV, "MPLBACKEND", *env)}
    os.environ.update(env)
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
            start_timeout=KERNEL_START_SECONDS,
            # the kernel's start-up notice about TCP transport is noise on a terminal
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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


def folder_name(stem: str, edition: str = TEACHING, solutions: bool = False) -> str:
    """Report folder of an edition: ``NAME``, ``NAME-client`` or ``NAME-instructor``."""
    if solutions:
        return stem + INSTRUCTOR_SUFFIX
    return stem + (CLIENT_SUFFIX if edition == CLIENT else "")


def check_solutions_request(path: Path, *, edition: str, solutions: bool) -> None:
    """Refuse ``--solutions`` for the client edition or a notebook without exercises."""
    if not solutions:
        return
    from crmlab import teach

    if edition == CLIENT:
        raise ReportError(
            "--solutions makes the instructor edition of the teaching report; "
            "the client edition has no exercises. Drop --solutions or --edition client."
        )
    number = notebook_number(path)
    if not number or not teach.notebook_exercises(number):
        raise ReportError(
            f"notebook {notebook_name(path)!r} has no exercises defined in crmlab.teach yet, "
            "so there are no worked solutions to show; render it without --solutions."
        )


def _render_into(
    work: Path,
    target: Path,
    path: Path,
    stem: str,
    given: dict[str, Any],
    effective: dict[str, Any],
    formats: tuple[str, ...],
    progress: bool,
    *,
    edition: str,
    solutions: bool,
    client: str,
    prepared_by: str,
) -> Report:
    """Execute and render into ``work``, then move it to ``target`` (also when a cell fails)."""
    from crmlab import teach
    from crmlab.report import excel, pdf
    from crmlab.report.html import notebook_title, to_html

    nb_work = work / f"{stem}.ipynb"
    try:
        execute(
            path,
            nb_work,
            given,
            work,
            progress=progress,
            env=teach.solutions_environment(solutions),
        )
    except Exception as exc:  # papermill raises PapermillExecutionError for a failing cell
        if type(exc).__name__ != "PapermillExecutionError":
            raise ExecutionError(f"notebook {stem!r} could not be executed: {exc}") from exc
        message = _failure_message(stem, nb_work, exc, shown=target / nb_work.name)
        if nb_work.exists():  # keep the partly executed notebook, alone: no stale report beside
            publish(work, target)
        raise ExecutionError(message) from None
    nb = nbformat.read(nb_work, as_version=4)
    if not solutions and teach.contains_solutions(nb):
        raise ReportError(
            f"notebook {stem!r} showed worked solutions in a student run; "
            "nothing was published (check CRMLAB_SOLUTIONS handling in crmlab.teach)."
        )
    title = notebook_title(nb, edition) or stem.replace("_", " ").capitalize()
    if solutions:
        title += INSTRUCTOR_TITLE
    notes: list[str] = []
    if edition == CLIENT:  # a client cannot open the executed notebook; keep it out of sight
        hidden = work / ".notebook"
        hidden.mkdir()
        kept = hidden / nb_work.name
        os.replace(nb_work, kept)
        written = []
    else:
        kept = nb_work
        written = [nb_work]
    reasons = {k: p.help for k, p in notebook_parameters(path).items()}
    if "html" in formats or "pdf" in formats:
        page_path = work / f"{stem}.html"
        page = to_html(
            nb,
            effective,
            title=title,
            edition=edition,
            client=client,
            prepared_by=prepared_by,
            reasons=reasons,
            notes=notes,
        )
        page_path.write_text(page, encoding="utf-8")
        written.append(page_path)
    if "pdf" in formats:
        if pdf.find_chromium() is None:
            notes.append(f"no PDF: {pdf.CHROMIUM_HINT}")
        else:
            footer = client if edition == CLIENT and client else title
            written.append(pdf.print_pdf(work / f"{stem}.html", footer=footer))
    tables = excel.build_workbook(work, work / f"{stem}-tables.xlsx", title, effective, reasons)
    if tables is not None:
        written.append(tables)
    written.extend(sorted(p for p in work.iterdir() if p.suffix in (".csv", ".xlsx")))
    written.extend(sorted(p for p in work.iterdir() if p.suffix == ".json"))
    written = list(dict.fromkeys(written))
    publish(work, target)
    return Report(
        stem,
        title,
        target,
        target / kept.relative_to(work),
        files=[target / p.relative_to(work) for p in written],
        edition=edition,
        solutions=solutions,
        notes=notes,
    )


def render_report(
    name: str | Path,
    parameters: Mapping[str, Any] | None = None,
    out: str | Path = "reports",
    *,
    formats: tuple[str, ...] = ("html",),
    edition: str = TEACHING,
    solutions: bool = False,
    client: str = "",
    prepared_by: str = "",
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
        Reports folder (relative to the working directory); the report goes to
        ``out/<name>/`` (teaching), ``out/<name>-client/`` or ``out/<name>-instructor/``.
    formats : tuple of {"html", "pdf", "ipynb"}
        The executed notebook is always kept (out of the client's sight in the client
        edition); "pdf" renders the HTML first and prints it with headless chromium,
        or notes in :attr:`Report.notes` that chromium is missing.
    edition : {"teaching", "client"}
        See :mod:`crmlab.report.editions`.
    solutions : bool
        The instructor edition: worked solutions shown (``CRMLAB_SOLUTIONS=1``), title
        suffix " (instructor edition)", own folder. Refused for the client edition and
        for notebooks without exercises. A student run that shows a solution is refused.
    client, prepared_by : str
        The client edition's title block.
    progress : bool
        Papermill's progress bar (the CLI shows it on a terminal only).
    folder : path, optional
        Where to look up notebooks by name (default: the bundled notebooks).
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
    place when done (:func:`publish`), holding a lock on ``out/.<folder>.lock``
    meanwhile, so concurrent runs to one ``out`` never mix their files.
    """
    start = time.perf_counter()
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ReportError(f"unknown format {bad[0]!r}; choose from {', '.join(FORMATS)}.")
    if edition not in EDITIONS:
        raise ReportError(f"unknown edition {edition!r}; choose from {', '.join(EDITIONS)}.")
    path = find_notebook(str(name), folder)
    stem = notebook_name(path)
    check_solutions_request(path, edition=edition, solutions=solutions)
    given = check_parameters(path, parameters or {})
    if isinstance(given.get("data_path"), str):  # the notebook runs in its own folder
        given["data_path"] = resolve_data_path(given["data_path"])
    declared = notebook_parameters(path)
    effective = {k: given.get(k, p.default) for k, p in declared.items()}
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {out} is a file, not a folder; choose a folder for the reports.")
    out.mkdir(parents=True, exist_ok=True)
    target = out / folder_name(stem, edition, solutions)
    data = data_file(str(effective.get("data_path") or ""))
    refuse_overwriting_inputs(target, {"--data": data, "notebook": path, **dict(inputs or {})})
    with locked(out / f".{target.name}.lock", what=str(target), timeout=lock_timeout):
        _remove_leftovers(out, target.name)
        work = out / f".{target.name}.tmp-{uuid.uuid4().hex}"
        work.mkdir()
        try:
            report = _render_into(
                work,
                target,
                path,
                stem,
                given,
                effective,
                formats,
                progress,
                edition=edition,
                solutions=solutions,
                client=client,
                prepared_by=prepared_by,
            )
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    report.seconds = time.perf_counter() - start
    return report
