"""Exercises a student can check without being handed the answer.

A notebook ends with exercises like::

    answer_1 = None  # your answer: the share of customers still alive (0-1)
    teach.check(answer_1, expected=float(share_alive), tolerance=0.01,
                hint="P(alive) is a column of the customer table; average it.")

``check`` says whether the answer is right, gives the hint when it is not, and
never prints the expected value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from IPython.display import Markdown, display


def is_correct(answer: Any, expected: Any, *, tolerance: float = 0.01) -> bool:
    """Compare an answer with the expected one.

    Numbers match within a relative ``tolerance`` (absolute for expected 0);
    strings match ignoring case and surrounding spaces; collections match as
    sets of such values (order ignored).
    """
    if isinstance(expected, str):
        return isinstance(answer, str) and answer.strip().lower() == expected.strip().lower()
    if isinstance(expected, bool) or isinstance(answer, bool):
        return answer is expected or answer == expected
    if isinstance(expected, int | float):
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return False
        scale = abs(float(expected)) or 1.0
        return math.isfinite(value) and abs(value - float(expected)) <= tolerance * scale
    if isinstance(expected, Iterable):
        if isinstance(answer, str) or not isinstance(answer, Iterable):
            return False
        norm = {str(v).strip().lower() for v in expected}
        return {str(v).strip().lower() for v in answer} == norm
    return answer == expected


class Checked:
    """The outcome of :func:`check`: true when correct; shows nothing as a cell's last value.

    (Returning a plain bool would print ``True``/``False`` under every exercise.)
    """

    def __init__(self, correct: bool):
        self.correct = bool(correct)

    def __bool__(self) -> bool:
        return self.correct

    def __eq__(self, other: object) -> bool:
        return bool(self) == other if isinstance(other, bool | Checked) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.correct)

    def __repr__(self) -> str:
        return f"Checked({self.correct})"

    def _ipython_display_(self) -> None:
        """Display nothing: the message was already shown."""


def check(
    answer: Any, expected: Any, *, tolerance: float = 0.01, hint: str = "", name: str = "answer"
) -> Checked:
    """Tell the student whether ``answer`` is right, with a hint if it is not.

    Parameters
    ----------
    answer : any
        The student's answer; ``None`` means not answered yet.
    expected : any
        The value computed by the notebook (never shown).
    tolerance : float
        Relative tolerance for numbers.
    hint : str
        A nudge shown when the answer is wrong or missing.
    name : str
        How the answer variable is called in the notebook.

    Returns
    -------
    Checked
        True when the answer is correct (``bool(result)``); displays nothing itself.
    """
    if answer is None:
        display(Markdown(f"*Not answered yet: set `{name}` and run the cell again.*"))
        return Checked(False)
    ok = is_correct(answer, expected, tolerance=tolerance)
    if ok:
        display(Markdown("**Correct.**"))
    else:
        display(Markdown(f"**Not yet.** {hint}".strip()))
    return Checked(ok)
