"""Exercise definitions, one module per notebook: ``nNN_name.py`` holds the exercises of
``notebooks/NN_name.ipynb`` as a tuple ``EXERCISES`` of :class:`crmlab.teach.Exercise`
with ids ``"NN.1"``, ``"NN.2"``, ... (module names cannot start with a digit, hence the
``n``). The question text lives here only; the notebook shows it with
``teach.question("NN.k")``.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re

from crmlab.errors import DataError

_MODULE = re.compile(r"^n(\d\d)_\w+$")


@functools.cache
def _modules() -> dict[str, str]:
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(__path__):
        match = _MODULE.match(info.name)
        if match:
            if match.group(1) in found:
                raise DataError(f"two exercise modules for notebook {match.group(1)}.")
            found[match.group(1)] = info.name
    return found


@functools.cache
def notebook_exercises(notebook: str) -> dict:
    """The exercises of notebook ``"03"`` by id, in order (empty when it has none yet)."""
    name = _modules().get(notebook)
    if name is None:
        return {}
    module = importlib.import_module(f"{__name__}.{name}")
    out = {}
    for i, ex in enumerate(module.EXERCISES, start=1):
        if ex.id != f"{notebook}.{i}":
            raise DataError(f"{name}: exercise {i} has id {ex.id!r}; expected '{notebook}.{i}'.")
        out[ex.id] = ex
    return out


def get(exercise_id: str):
    """The :class:`crmlab.teach.Exercise` with this id (``"03.1"``)."""
    notebook = str(exercise_id).split(".")[0]
    found = notebook_exercises(notebook).get(str(exercise_id))
    if found is None:
        known = ", ".join(i for n in sorted(_modules()) for i in notebook_exercises(n))
        raise DataError(f"no exercise {exercise_id!r}; defined: {known or 'none'}.")
    return found


def all_exercises() -> list:
    """Every defined exercise, notebook by notebook."""
    return [ex for n in sorted(_modules()) for ex in notebook_exercises(n).values()]
