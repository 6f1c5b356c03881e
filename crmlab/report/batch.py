"""``crmlab report --all``: every notebook rendered (two at a time) and an index."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from crmlab.report.errors import ReportError
from crmlab.report.execution import Report, folder_name, render_report
from crmlab.report.index import write_index
from crmlab.report.names import TEACHING
from crmlab.report.parameters import find_notebook, list_notebooks, notebook_name

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _render_one(job: tuple[str, str, dict[str, Any], dict[str, Any]]) -> Report:
    name, out, params, options = job
    # two notebooks run side by side: one BLAS/OpenMP thread per kernel, or their thread
    # pools fight over the cores (measured: 61 s -> 33 s for four reports on 2 cores)
    for var in THREAD_VARS:
        os.environ.setdefault(var, "1")
    try:
        return render_report(name, params, out, **options)
    except ReportError as exc:
        path = find_notebook(name, options.get("folder"))
        stem = notebook_name(path)
        target = Path(out) / folder_name(stem, options.get("edition", TEACHING))
        return Report(
            stem,
            stem,
            target,
            target / f"{stem}.ipynb",
            error=str(exc),
            edition=options.get("edition", TEACHING),
        )


def render_all(
    out: str | Path = "reports",
    *,
    formats: tuple[str, ...] = ("html",),
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    folder: str | Path | None = None,
    workers: int = 2,
    edition: str = TEACHING,
    client: str = "",
    prepared_by: str = "",
) -> tuple[list[Report], Path]:
    """Render every notebook (on its defaults unless ``parameters[name]``) and an index.

    Notebooks run in ``workers`` processes (kernel start-ups overlap). A failing
    notebook does not stop the others; it is listed in the index with its error.
    The instructor edition is made one notebook at a time (``render_report(...,
    solutions=True)``): not every notebook has exercises.

    Returns
    -------
    (reports, index_path)
    """
    names = list(list_notebooks(folder))
    parameters = parameters or {}
    options = {
        "formats": tuple(formats),
        "folder": str(folder) if folder else None,
        "edition": edition,
        "client": client,
        "prepared_by": prepared_by,
    }
    jobs = [(n, str(out), dict(parameters.get(n, {})), options) for n in names]
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
    index = write_index(reports, out, edition=edition)
    return reports, index
