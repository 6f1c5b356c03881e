"""What every exercise test needs, written once: a notebook's namespace (its code cells before
the exercises, run in-process with the small test parameters, as papermill would), the
objects an exercise is checked with, the messages a check showed, the forms in which a
message could give the answer away, the precision a question asks for and wrong answers
that are wrong by a clear margin.

The standard checks every exercise must pass live in ``test_every_exercise.py``; the
fixtures (``namespaces``, ``ns``, ``shown``) in ``conftest.py``; a notebook's own test file
keeps what only its exercises claim.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import matplotlib
import nbformat
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from crmlab import render, teach  # noqa: E402

NUMERIC = ("numeric", "code")  # the kinds answered with a number
CHOICE = ("choose", "why")  # the kinds answered with a letter
EXERCISES_HEADING = "## Exercises"
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4}


def notebook_name(number: str) -> str:
    """The report name of notebook ``"01"`` (``"customer_pyramid"``)."""
    found = [n for n, p in render.list_notebooks().items() if p.stem.startswith(f"{number}_")]
    assert len(found) == 1, f"notebook {number}: {found}"
    return found[0]


@functools.cache
def notebook_cells(number: str) -> tuple[list, list]:
    """The notebook's cells before its ``## Exercises`` heading, and from it on (read once:
    do not change them)."""
    nb = nbformat.read(render.list_notebooks()[notebook_name(number)], as_version=4)
    start = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and c.source.lstrip().startswith(EXERCISES_HEADING)
    )
    return nb.cells[:start], nb.cells[start:]


def build_namespace(number: str, exports: Path) -> dict:
    """Run the notebook's code cells before the exercises, as papermill would: the small
    test parameters replace the parameters cell's values, figures are static and closed,
    exports go to ``exports``."""
    name = notebook_name(number)
    before, _ = notebook_cells(number)
    small = yaml.safe_load((render.NOTEBOOKS_DIR / "test_parameters.yaml").read_text())[name]
    env = {render.STATIC_ENV: "1", render.EXPORT_ENV: str(exports)}
    namespace: dict = {}
    with mock.patch.dict(os.environ, env):  # restored afterwards
        for cell in before:
            if cell.cell_type != "code":
                continue
            exec(compile(cell.source, f"<notebook {number}>", "exec"), namespace)
            if "parameters" in cell.metadata.get("tags", []):
                namespace.update(small)
            plt.close("all")
    return namespace


def objects(ex: teach.Exercise, ns: Mapping[str, Any]) -> dict:
    """The notebook objects the check cell passes to ``teach.check`` for ``ex``."""
    return {name: ns[name] for name in ex.needs}


_answers: dict[str, tuple[Mapping, Any]] = {}


def expected_answer(ex: teach.Exercise, ns: Mapping[str, Any]) -> Any:
    """``ex.expected_value`` on the notebook's objects, computed once per namespace (some
    take seconds: 06.5 finds two survey sizes)."""
    kept = _answers.get(ex.id)
    if kept is None or kept[0] is not ns:
        kept = _answers[ex.id] = (ns, ex.expected_value(**objects(ex, ns)))
    return kept[1]


def texts(shown: list) -> list[str]:
    """The markdown of every message shown, in order."""
    return [t for t, _ in shown]


def answer_forms(ex: teach.Exercise, value: Any) -> set[str]:
    """The ways the number ``value`` could be written in a message (not for counts)."""
    v = float(value)
    if ex.unit == "percent":
        return {f"{v:.1f}", f"{v:.2f}", f"{v / 100:.2f}", f"{v / 100:.3f}", f"{v:.0f} point"}
    forms = {f"{v:.2f}", f"{v:.3f}", f"{v:,.2f}"}
    if ex.unit in ("fraction", "share") or abs(v) < 1:
        forms |= {f"{v:.1%}", f"{v:.0%}", f"{v * 100:.1f}"}
    if abs(v) >= 10:
        forms |= {f"{v:,.0f}", f"{v:.0f}", f"{v:,.1f}", f"{v:.1f}"}
    return forms - {"0%", "0", "0.0", "0.00", "1.00"}  # substrings of too many other numbers


def reveals(ex: teach.Exercise, value: Any, text: str) -> bool:
    """Whether ``text`` writes the answer ``value`` of ``ex`` in a form a student could copy."""
    if ex.unit == "count":
        v = int(float(value))
        return bool(re.search(rf"(?<![\d.]){v:,}(?![\d])|(?<![\d.]){v}(?![\d])", text))
    return any(f in text for f in answer_forms(ex, value))


def asked_decimals(ex: teach.Exercise) -> int | None:
    """The decimals the question of a numeric exercise asks for ("Two decimals are enough",
    "to three decimals", "to the nearest whole customer"; 0 for a count), None if unsaid."""
    if ex.unit == "count" or re.search(r"nearest whole", ex.question):
        return 0
    said = re.search(r"\b(one|two|three|four) decimals?\b", ex.question, re.IGNORECASE)
    return _WORDS[said.group(1).lower()] if said else None


def wrong_answers(ex: teach.Exercise, expected: Any) -> list:
    """Two different answers, each wrong by far more than the tolerance."""
    if ex.kind in CHOICE:
        return [k for k in ex.options if k != expected][:2]
    if ex.kind == "predict":
        return [d for d in teach.core.DIRECTIONS if d != expected]
    e = float(expected)
    if ex.unit in ("fraction", "share"):  # stay within 0-1 when the answer does
        return [e + 0.2 if e < 0.7 else e - 0.2, e + 0.35 if e < 0.5 else e - 0.35]
    if ex.unit == "percent":
        return [e + 20, e + 35]
    if ex.unit == "count":
        return [e + 10, e + 25]
    return [e + 0.2 + 10 * ex.tolerance, e + 0.35 + 25 * ex.tolerance]
