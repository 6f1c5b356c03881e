"""The exercise machinery: definitions, checking, graded hints, worked solutions.

An exercise is defined once, in ``crmlab.teach.exercises`` (one module per notebook), by an
:class:`Exercise`: its question, how to compute the expected answer from the notebook's
objects, a tolerance, two graded hints, feedback for common mistakes and a worked solution.
The notebook shows the question with :func:`question` and checks the student's answer with
:func:`check`, passing the objects the expected value is computed from::

    teach.question("03.1")                       # a code cell: shows the question

    answer_1 = None  # your answer
    teach.check("03.1", answer_1, values=values)   # the expected value is never written here

What the student sees after :func:`check`:

* not answered (``None``): how to answer;
* the right answer (within the tolerance): "Correct." and, for predict/choose/why
  exercises, the explanation computed from the data;
* a percentage where a fraction is expected (or the reverse): "looks like a percentage:
  give it as a fraction (0-1)" (not counted as a wrong try);
* a wrong answer: feedback on that answer when it is a known mistake or a wrong option,
  then the first hint (a nudge) on the first wrong answer and the second (the method) on
  every later different wrong answer. Neither hint, nor any feedback, contains the answer.

With the environment variable ``CRMLAB_SOLUTIONS=1`` (the instructor edition, see
:func:`solutions_environment`) :func:`check` also shows the worked solution and the answer.

The older form ``check(answer, expected=..., tolerance=..., hint=..., name=...)`` still
works (relative tolerance) until every notebook is converted.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from IPython.display import Markdown, display

from crmlab.errors import DataError

SOLUTIONS_ENV = "CRMLAB_SOLUTIONS"
SOLUTION_KEY = "crmlab-solution"  # display metadata marking a worked solution in the outputs
KINDS = {
    "numeric": "look up",
    "code": "do: write the code",
    "predict": "predict, then run",
    "choose": "choose",
    "why": "why",
}
UNITS = {
    "fraction": "a fraction between 0 and 1",
    "share": "a share as a fraction (1 = 100%; it can exceed 1)",
    "percent": "a percentage between 0 and 100",
    "count": "a whole number",
    "dollars": "an amount in dollars",
    "number": "a number",
}
DIRECTIONS = ("up", "down", "same")
_DIRECTION_WORDS = {
    "up": {"up", "higher", "increase", "increases", "rise", "rises", "more", "goes up", "+"},
    "down": {"down", "lower", "decrease", "decreases", "fall", "falls", "less", "goes down", "-"},
    "same": {"same", "unchanged", "no change", "equal", "stays", "stays the same", "="},
}
_MISSING = object()
_ID = re.compile(r"^\d\d\.\d+$")


@dataclass(frozen=True)
class Option:
    """One answer of a multiple-choice (``choose``/``why``) exercise.

    ``feedback`` is shown when a student picks it: for a wrong option, why it is wrong
    (without naming the right one); for the right one, why it is right (shown with the
    explanation after a correct answer and in the solution).
    """

    text: str
    feedback: str
    correct: bool = False


@dataclass(frozen=True)
class Mistake:
    """A common wrong answer: ``value(**objects)`` computes it; ``message`` says what it is."""

    value: Callable[..., Any]
    message: str


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook.

    Parameters
    ----------
    id : str
        ``"NN.k"``: notebook number and exercise number (``"03.1"``).
    kind : {"numeric", "code", "predict", "choose", "why"}
        ``numeric``: read a number (look-up); ``code``: write the line that computes a
        quantity with a crmlab function (the value is checked); ``predict``: say whether a
        quantity goes ``"up"``, ``"down"`` or stays the ``"same"`` when a parameter changes,
        before running it; ``choose``: multiple choice; ``why``: choose the explanation.
    question : str
        Markdown, shown by :func:`question` (the only place the text lives).
    needs : tuple of str
        Names of the notebook objects the check cell passes (``values=values``).
    hints : (str, str)
        The nudge (first wrong answer) and the method (later wrong answers). Never the
        answer: the tests check it.
    solution : str
        Worked solution (markdown), shown in the instructor edition only.
    expected : callable, optional
        ``expected(**objects)``: the right answer (a number for numeric/code, a direction
        for predict; choose/why default to the correct option's letter).
    tolerance : float
        Absolute tolerance for numbers, matched to the precision asked for.
    unit : str
        For numbers: ``"fraction"``, ``"percent"``, ``"count"``, ``"dollars"``,
        ``"share"`` or ``"number"``; fractions, shares (fractions that may exceed 1) and
        percentages get the percent/fraction slip feedback.
    fmt : str
        Format of the answer in the solution (``"{:.2f}"``).
    code : str
        For numeric/code/predict: the expression that computes the answer (predict: the
        ``(before, after)`` pair), evaluated in the notebook's namespace by the tests.
    options : mapping of str to Option
        For choose/why: the options by letter, exactly one correct.
    mistakes : tuple of Mistake
        Common wrong numbers and what they are.
    explain : callable, optional
        ``explain(**objects) -> str``: shown after a correct answer and in the solution
        (predict: the computation; why: the numbers behind the right explanation).
    """

    id: str
    kind: str
    question: str
    needs: tuple[str, ...]
    hints: tuple[str, str]
    solution: str
    expected: Callable[..., Any] | None = None
    tolerance: float = 0.0
    unit: str = "number"
    fmt: str = "{}"
    code: str = ""
    options: Mapping[str, Option] = field(default_factory=dict)
    mistakes: tuple[Mistake, ...] = ()
    explain: Callable[..., str] | None = None

    def __post_init__(self) -> None:
        where = f"exercise {self.id!r}"
        if not _ID.match(self.id):
            raise DataError(f"{where}: the id must look like '03.1' (notebook.number).")
        if self.kind not in KINDS:
            raise DataError(f"{where}: kind {self.kind!r} is not one of {', '.join(KINDS)}.")
        if len(self.hints) != 2 or not all(h.strip() for h in self.hints):
            raise DataError(f"{where}: give two hints, a nudge and the method.")
        if not self.question.strip() or not self.solution.strip():
            raise DataError(f"{where}: the question and the worked solution are required.")
        if self.kind in ("choose", "why"):
            right = [k for k, o in self.options.items() if o.correct]
            if len(self.options) < 3 or len(right) != 1:
                raise DataError(f"{where}: give at least 3 options, exactly one correct.")
            bad = [k for k in self.options if not re.fullmatch(r"[a-z]", k)]
            if bad:
                raise DataError(f"{where}: options are keyed by one lower-case letter: {bad}.")
            if not all(o.feedback.strip() for o in self.options.values()):
                raise DataError(f"{where}: every option needs feedback.")
        else:
            if self.expected is None:
                raise DataError(f"{where}: a {self.kind} exercise needs expected(**objects).")
            if self.options:
                raise DataError(f"{where}: only choose/why exercises have options.")
            if not self.code.strip():
                raise DataError(f"{where}: give the code that computes the answer.")
        if self.kind in ("numeric", "code"):
            if self.unit not in UNITS:
                raise DataError(f"{where}: unit {self.unit!r} is not one of {', '.join(UNITS)}.")
            if not (self.tolerance >= 0 and math.isfinite(self.tolerance)):
                raise DataError(f"{where}: the tolerance must be a finite number >= 0.")

    @property
    def notebook(self) -> str:
        """The notebook number, ``"03"``."""
        return self.id.split(".")[0]

    @property
    def number(self) -> str:
        """The exercise number within the notebook, ``"1"``."""
        return self.id.split(".")[1]

    @property
    def answer_name(self) -> str:
        """The variable the student sets in the check cell: ``answer_1``."""
        return f"answer_{self.number}"

    @property
    def correct_option(self) -> str | None:
        return next((k for k, o in self.options.items() if o.correct), None)

    def expected_value(self, **objects: Any) -> Any:
        """The right answer, computed from the notebook's objects."""
        _require(self, objects)
        if self.kind in ("choose", "why") and self.expected is None:
            return self.correct_option
        return self.expected(**objects)

    def answer_format(self) -> str:
        """How to write the answer, for the question."""
        if self.kind == "predict":
            return '"up", "down" or "same"'
        if self.kind in ("choose", "why"):
            return "one letter: " + ", ".join(f'"{k}"' for k in self.options)
        return UNITS[self.unit]


# ------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Verdict:
    """What :func:`assess` made of an answer.

    ``status``: ``"missing"`` (None), ``"invalid"`` (not a possible answer: says what to
    give), ``"slip"`` (right number in the wrong unit), ``"correct"`` or ``"wrong"``;
    ``message``: the feedback on this answer (not the hint).
    """

    status: str
    message: str = ""


def _number(answer: Any) -> tuple[float | None, bool]:
    """``(value, had_percent_sign)``; value None when the answer is not a number."""
    if isinstance(answer, bool):
        return None, False
    if isinstance(answer, numbers.Real):
        value = float(answer)
        return (value if math.isfinite(value) else None), False
    if isinstance(answer, str):
        text = answer.strip().replace(",", "")
        percent = text.endswith("%")
        try:
            value = float(text.rstrip("%").strip())
        except ValueError:
            return None, False
        return (value if math.isfinite(value) else None), percent
    try:  # numpy scalars, 0-d arrays, one-element series
        value = float(answer)
    except (TypeError, ValueError):
        return None, False
    return (value if math.isfinite(value) else None), False


def _option(answer: Any) -> str | None:
    if not isinstance(answer, str):
        return None
    text = answer.strip().lower().strip("().[] ")
    return text if re.fullmatch(r"[a-z]", text) else None


def direction(before: float, after: float, same_within: float = 0.0) -> str:
    """``"up"``, ``"down"`` or ``"same"`` (when ``|after - before| <= same_within``)."""
    if abs(after - before) <= same_within:
        return "same"
    return "up" if after > before else "down"


def _direction(answer: Any) -> str | None:
    if not isinstance(answer, str):
        return None
    text = " ".join(answer.strip().lower().split())
    return next((d for d, words in _DIRECTION_WORDS.items() if text in words), None)


def _close(value: float, expected: float, tolerance: float) -> bool:
    return abs(value - expected) <= tolerance + 1e-12 * max(1.0, abs(expected))


def assess(exercise: Exercise, answer: Any, **objects: Any) -> Verdict:
    """Judge ``answer`` to ``exercise`` (no display, no hint state): a :class:`Verdict`."""
    if answer is None:
        return Verdict("missing")
    expected = exercise.expected_value(**objects)
    if exercise.kind in ("choose", "why"):
        letter = _option(answer)
        if letter not in exercise.options:
            return Verdict("invalid", f"Answer with {exercise.answer_format()}.")
        if letter == expected:
            return Verdict("correct")
        return Verdict("wrong", exercise.options[letter].feedback)
    if exercise.kind == "predict":
        said = _direction(answer)
        if said is None:
            return Verdict("invalid", f"Answer {exercise.answer_format()}.")
        return Verdict("correct" if said == expected else "wrong")
    value, percent_sign = _number(answer)
    if value is None:
        return Verdict("invalid", f"Give {UNITS[exercise.unit]} (a number, not text).")
    target, tol = float(expected), exercise.tolerance
    unit = exercise.unit
    if percent_sign and unit != "percent":
        if _close(value / 100, target, tol):
            return Verdict("slip", _slip("fraction"))
        value /= 100
    elif _close(value, target, tol):
        return Verdict("correct")
    if unit in ("fraction", "share") and abs(value) > 1 and _close(value / 100, target, tol):
        return Verdict("slip", _slip("fraction"))
    if unit == "percent" and abs(value) <= 1 and _close(value * 100, target, tol):
        return Verdict("slip", _slip("percent"))
    if unit == "count" and value != round(value):
        return Verdict("invalid", "Give a whole number.")
    for mistake in exercise.mistakes:
        wrong = _number(mistake.value(**objects))[0]
        if wrong is not None and _close(value, wrong, tol):
            return Verdict("wrong", mistake.message)
    if unit == "fraction" and not 0 <= value <= 1 and 0 <= target <= 1:
        return Verdict("wrong", "A share of customers or of profit lies between 0 and 1.")
    return Verdict("wrong")


def _slip(unit: str) -> str:
    if unit == "fraction":
        return "Looks like a percentage: give it as a fraction (0-1), e.g. 0.25 for 25%."
    return "Looks like a fraction: give it as a percentage (0-100), e.g. 25 for 0.25."


# ----------------------------------------------------------------------- hint state

_tried: dict[str, list[str]] = {}


def reset(exercise_id: str | None = None) -> None:
    """Forget the wrong answers tried (all exercises, or one): the hints start again."""
    if exercise_id is None:
        _tried.clear()
    else:
        _tried.pop(exercise_id, None)


def _key(answer: Any) -> str:
    value, percent = _number(answer)
    if value is not None:
        return f"{value!r}{'%' if percent else ''}"
    return " ".join(str(answer).strip().lower().split())


def hint_for(exercise: Exercise, answer: Any) -> tuple[str, str]:
    """Record a wrong ``answer`` and return ``(label, hint)``: the nudge for the first
    different wrong answer, the method for every later one."""
    tried = _tried.setdefault(exercise.id, [])
    key = _key(answer)
    if key not in tried:
        tried.append(key)
    if len(tried) <= 1:
        return "Hint", exercise.hints[0]
    return "Method", exercise.hints[1]


# ------------------------------------------------------------------------- displays


def _registry(exercise_id: str) -> Exercise:
    from crmlab.teach.exercises import get

    return get(exercise_id)


def _require(exercise: Exercise, objects: Mapping[str, Any]) -> None:
    missing = [n for n in exercise.needs if n not in objects]
    extra = [n for n in objects if n not in exercise.needs]
    if missing or extra:
        call = ", ".join(
            [f'"{exercise.id}"', exercise.answer_name] + [f"{n}={n}" for n in exercise.needs]
        )
        what = f"needs {', '.join(missing)}" if missing else f"does not use {', '.join(extra)}"
        raise DataError(f"exercise {exercise.id} {what}; call teach.check({call}).")


def question_markdown(exercise_id: str) -> str:
    """The question of an exercise as markdown: number, kind, text, options, how to answer."""
    ex = _registry(exercise_id)
    parts = [f"**Exercise {ex.id}** ({KINDS[ex.kind]}). {ex.question.strip()}"]
    if ex.options:
        parts.append("\n".join(f"- **{k}.** {o.text}" for k, o in ex.options.items()))
    parts.append(f"*Answer in `{ex.answer_name}`: {ex.answer_format()}.*")
    return "\n\n".join(parts)


def question(exercise_id: str) -> None:
    """Show the question of an exercise (the notebook's question cell calls this)."""
    display(Markdown(question_markdown(exercise_id)))


def solution_markdown(exercise_id: str, **objects: Any) -> str:
    """The worked solution and the answer, computed from the notebook's objects."""
    ex = _registry(exercise_id)
    expected = ex.expected_value(**objects)
    parts = [f"**Solution {ex.id} (instructor edition).** {ex.solution.strip()}"]
    if ex.code:
        parts.append(f"```python\n{ex.code.strip()}\n```")
    if ex.options:
        right = ex.options[expected]
        parts.append(f"**Answer:** {expected} ({right.text}) {right.feedback}")
    elif ex.kind == "predict":
        parts.append(f"**Answer:** {expected}")
    else:
        parts.append(f"**Answer:** {ex.fmt.format(expected)}")
    if ex.explain is not None:
        parts.append(ex.explain(**objects))
    return "\n\n".join(parts)


def solutions_shown() -> bool:
    """True when :func:`check` shows worked solutions (``CRMLAB_SOLUTIONS=1``)."""
    return os.environ.get(SOLUTIONS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def solutions_environment(solutions: bool) -> dict[str, str]:
    """The environment a notebook kernel needs for the student (``False``) or the
    instructor (``True``) edition: the renderer sets it before papermill starts the kernel.

    Always set explicitly, so a stray ``CRMLAB_SOLUTIONS`` in the user's shell never puts
    solutions into a student report.
    """
    return {SOLUTIONS_ENV: "1" if solutions else "0"}


def contains_solutions(nb: Any) -> bool:
    """True when an executed notebook (nbformat node or dict) shows a worked solution."""
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            if SOLUTION_KEY in (output.get("metadata") or {}):
                return True
    return False


# ---------------------------------------------------------------------------- check


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
    exercise: Any,
    answer: Any = _MISSING,
    /,
    *,
    expected: Any = _MISSING,
    tolerance: float | None = None,
    hint: str = "",
    name: str = "answer",
    **objects: Any,
) -> Checked:
    """Tell the student whether their answer is right, with graded hints when it is not.

    Parameters
    ----------
    exercise : str
        The exercise id, ``"03.1"`` (defined in :mod:`crmlab.teach.exercises`).
    answer : any
        The student's answer; ``None`` means not answered yet.
    **objects
        The notebook objects the expected value is computed from (``values=values``);
        exactly the exercise's ``needs``.

    Returns
    -------
    Checked
        True when the answer is correct (``bool(result)``); displays nothing itself.

    Notes
    -----
    Older form, until every notebook is converted: ``check(answer, expected=...,
    tolerance=0.01, hint="...", name="answer_1")`` with a relative tolerance and one hint.
    """
    if expected is not _MISSING:
        if answer is not _MISSING or objects:
            raise TypeError("check(answer, expected=...) takes no exercise id or objects")
        tol = 0.01 if tolerance is None else tolerance
        return _legacy_check(exercise, expected, tolerance=tol, hint=hint, name=name)
    if answer is _MISSING:
        raise TypeError('check("03.1", answer_1, ...): give the exercise id and the answer')
    ex = _registry(exercise)
    _require(ex, objects)
    verdict = assess(ex, answer, **objects)
    if verdict.status == "missing":
        text = f"*Not answered yet: set `{ex.answer_name}` and run the cell again.*"
    elif verdict.status == "correct":
        text = "**Correct.**"
        if ex.kind in ("choose", "why"):
            text += " " + ex.options[_option(answer)].feedback
        if ex.explain is not None:
            text += "\n\n" + ex.explain(**objects)
    elif verdict.status == "slip":
        text = f"**Almost.** {verdict.message}"
    elif verdict.status == "invalid":
        text = f"**Not an answer yet.** {verdict.message}"
    else:
        label, hint_text = hint_for(ex, answer)
        text = " ".join(
            t for t in ("**Not yet.**", verdict.message, f"*{label}:* {hint_text}") if t
        )
    display(Markdown(text))
    if solutions_shown():
        display(Markdown(solution_markdown(ex.id, **objects)), metadata={SOLUTION_KEY: ex.id})
    return Checked(verdict.status == "correct")


# --------------------------------------------------------------------------- legacy


def is_correct(answer: Any, expected: Any, *, tolerance: float = 0.01) -> bool:
    """Compare an answer with the expected one (the older :func:`check` form).

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


def _legacy_check(answer: Any, expected: Any, *, tolerance: float, hint: str, name: str) -> Checked:
    if answer is None:
        display(Markdown(f"*Not answered yet: set `{name}` and run the cell again.*"))
        return Checked(False)
    ok = is_correct(answer, expected, tolerance=tolerance)
    if ok:
        display(Markdown("**Correct.**"))
    else:
        display(Markdown(f"**Not yet.** {hint}".strip()))
    return Checked(ok)
