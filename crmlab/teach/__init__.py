"""Exercises a student can check without being handed the answer.

Each exercise is defined once in :mod:`crmlab.teach.exercises` (one module per notebook:
question, expected value computed from the notebook's objects, tolerance, graded hints,
feedback for common mistakes, worked solution). A notebook asks and checks it with::

    teach.question("03.1")                          # shows the question

    answer_1 = None  # your answer
    teach.check("03.1", answer_1, values=values)      # never shows the expected value

``CRMLAB_SOLUTIONS=1`` in the kernel's environment (:func:`solutions_environment`) makes
:func:`check` also show the worked solution and the answer: the instructor edition.
See :mod:`crmlab.teach.core` for the rules.
"""

from crmlab.teach.core import (
    KINDS,
    SOLUTION_KEY,
    SOLUTIONS_ENV,
    Checked,
    Exercise,
    Mistake,
    Option,
    Verdict,
    assess,
    check,
    contains_solutions,
    direction,
    display,
    hint_for,
    is_correct,
    question,
    question_markdown,
    reset,
    solution_markdown,
    solutions_environment,
    solutions_shown,
)
from crmlab.teach.exercises import all_exercises, get, notebook_exercises

__all__ = [
    "KINDS",
    "SOLUTIONS_ENV",
    "SOLUTION_KEY",
    "Checked",
    "Exercise",
    "Mistake",
    "Option",
    "Verdict",
    "all_exercises",
    "assess",
    "check",
    "contains_solutions",
    "direction",
    "display",
    "get",
    "hint_for",
    "is_correct",
    "notebook_exercises",
    "question",
    "question_markdown",
    "reset",
    "solution_markdown",
    "solutions_environment",
    "solutions_shown",
]
