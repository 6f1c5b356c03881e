"""Former home of report rendering, kept importable while callers move to :mod:`crmlab.report`.

Every name here is :mod:`crmlab.report`'s (and its submodules'); new code imports
``crmlab.report``. ``NOTEBOOKS_DIR`` is the bundled notebooks folder.
"""

from __future__ import annotations

from typing import Any

from crmlab.report import *  # noqa: F403
from crmlab.report import __all__ as _ALL
from crmlab.report.execution import _versions  # noqa: F401
from crmlab.report.html import _math_svg, _mathtext  # noqa: F401
from crmlab.report.parameters import MAX_PARAMETERS_FILE_BYTES, _coerce  # noqa: F401
from crmlab.report.pdf import chromium  # noqa: F401

__all__ = list(_ALL)  # and NOTEBOOKS_DIR, computed on access


def __getattr__(name: str) -> Any:
    if name == "NOTEBOOKS_DIR":
        from crmlab.report.parameters import notebooks_dir

        return notebooks_dir()
    raise AttributeError(f"module 'crmlab.render' has no attribute {name!r}")
