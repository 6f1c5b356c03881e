"""Where the kit's files are: notebooks, datasets and page templates are package data.

They are found through the import system (:mod:`importlib.resources`), so a kit
installed from a wheel works like a checkout: ``notebooks/`` and ``datasets/`` of the
repository are installed as ``crmlab.notebooks`` and ``crmlab.datasets`` (see
``setup.py``), the templates live in ``crmlab/report/templates/``.
"""

from __future__ import annotations

import functools
import importlib.util
from importlib import resources
from pathlib import Path


@functools.cache
def bundled(kind: str) -> Path:
    """The folder of the bundled ``"notebooks"`` or ``"datasets"`` (a real directory).

    Raises
    ------
    FileNotFoundError
        When crmlab was installed without them (an install made before they were
        package data: reinstall with ``pip install -e .``).
    """
    spec = importlib.util.find_spec(f"crmlab.{kind}")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    # an editable install: setuptools' editable finder maps only packages with an
    # __init__.py, so the folders are found beside the package they were installed with
    import crmlab

    beside = Path(crmlab.__file__).resolve().parents[1] / kind
    if (beside / ("manifest.toml" if kind == "datasets" else "README.md")).is_file():
        return beside
    raise FileNotFoundError(
        f"crmlab's bundled {kind} are not installed; reinstall crmlab "
        "(`pip install -e .` in a checkout)."
    )


def template(name: str) -> str:
    """The text of ``crmlab/report/templates/<name>`` (page skeleton, style sheets)."""
    return resources.files("crmlab.report").joinpath("templates", name).read_text("utf-8")
