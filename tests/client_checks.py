"""Checks every client summary must pass (issue 15), shared by the notebook and unit tests.

* no model name, symbol or analyst shorthand (:data:`crmlab.reports.ANALYST_TERMS`);
* every number in a sentence carries its unit: a currency sign before it, a percent
  sign after it, or a unit word after it (customers, years, orders, ...);
* each cited number is printed as formatted (:func:`printed`);
* each action on customers names how many, and its list file is in the report folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from crmlab.reports import CLIENT_FILE, analyst_terms_in

UNIT_WORDS = (
    "customer",
    "customers",
    "person",
    "persons",
    "people",
    "record",
    "records",
    "household",
    "households",
    "order",
    "orders",
    "purchase",
    "purchases",
    "year",
    "years",
    "week",
    "weeks",
    "month",
    "months",
    "day",
    "days",
    "percentage",
    "employee",
    "employees",
    "product",
    "products",
    "brand",
    "brands",
    "answer",
    "answers",
    "respondents",
    "reasons",
    "recommendations",
    "suggestions",
    "systems",
    "times",
    "more",  # "2,379 more customers": the unit follows
    "most",
)
MONTHS = (
    "january february march april may june july august september october november december"
).split()
MONTHS += [m[:3] for m in MONTHS] + ["sept"]
NUMBER = re.compile(r"(?<![\w.])(\$?)(-?\d[\d,]*(?:\.\d+)?)(%?)")


SCALE = "on a scale where zero means"


def numbers_without_unit(text: str) -> list[str]:
    """The numbers in ``text`` with no currency sign, percent sign or unit word.

    A sentence that defines its scale ("... on a scale where zero means no link and one
    means ...", for a correlation) may cite numbers between -1 and 1 on it.
    """
    bare = []
    scaled = SCALE in text
    for match in NUMBER.finditer(text):
        dollar, number, percent = match.groups()
        if dollar or percent:
            continue
        if scaled and "." in number and -1 <= float(number.replace(",", "")) <= 1:
            continue
        before = text[: match.start()].rstrip()
        words_before = before.split()
        if words_before and words_before[-1].lower() in MONTHS:
            continue  # the year of a date, "30 September 1997"
        if before.endswith(("$", "-$", "$-")):
            continue
        after = text[match.end() :].lstrip(" ()").split()
        if after[:2] in (["or", "more"], ["or", "fewer"], ["or", "less"]):
            after = after[2:]  # "4 or more employees"
        # the unit word may follow an adjective or two: "800 former customers"
        if after and re.sub(r"[^\w]", "", after[0]).lower() in MONTHS:
            continue  # the day of a date
        words = [re.sub(r"[^\w-]", "", w).lower() for w in after[:3]]
        if any(w in UNIT_WORDS or w.endswith(("-year", "-week")) for w in words):
            continue
        bare.append(number)
    return bare


def check_plain(text: str) -> None:
    """No analyst term and no number without its unit in one client sentence or action."""
    assert not analyst_terms_in(text), f"analyst terms {analyst_terms_in(text)} in: {text}"
    bare = numbers_without_unit(text)
    assert not bare, f"numbers {bare} without a unit in: {text}"


def printed(item: dict, key: str, fmt: str) -> None:
    """``item["numbers"][key]`` appears in ``item["text"]`` formatted with ``fmt``."""
    shown = format(item["numbers"][key], fmt)
    assert shown in item["text"], f"{key}={shown} not in: {item['text']}"


def load(folder: Path) -> dict:
    """``client_summary.json`` of a rendered report, with every text checked for plain words,
    units and every action for its customers and list file."""
    record = json.loads((Path(folder) / CLIENT_FILE).read_text(encoding="utf-8"))
    assert record["client"], "the client summary has no sentence"
    texts = [f["text"] for f in record["client"]] + [a["text"] for a in record["actions"]]
    assert len(set(texts)) == len(texts), "a client sentence repeats another"
    for text in texts:
        check_plain(text)
    for action in record["actions"]:
        # acting on customers names how many; a test of an idea on real data may not
        assert action["verb"] == "test" or action["customers"] is not None, action
        if action["list_file"] is not None:
            assert (Path(folder) / action["list_file"]).exists(), action["list_file"]
    return record
