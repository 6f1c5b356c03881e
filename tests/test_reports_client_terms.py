"""crmlab.reports.analyst_terms_in: the banned-terms check every client summary goes through."""

from __future__ import annotations

import pytest

from crmlab.reports import ANALYST_TERMS, analyst_terms_in


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Median P(alive) of the MGC group is 0.84.", ["MGC", "P(alive)"]),
        ("The BZs lose money; MVCs bring most.", ["MVC", "BZ"]),
        ("Pareto/NBD has the lowest BIC.", ["BIC", "Pareto/NBD"]),
        ("Cramér's V = 0.04", ["Cramér's V"]),
        ("the NBD-Dirichlet benchmark", ["NBD", "Dirichlet"]),
        ("likelihood-ratio p = 0.03", ["p ="]),
        ("Keep the 4,714 most valuable customers: $378,014 over 3 years.", []),
        ("Bz and mvc in lower case are words, not the abbreviations", []),
        ("a clvish word and BZONE are not the terms", []),
    ],
)
def test_finds_whole_terms_only(text, found):
    assert analyst_terms_in(text) == found


def test_every_term_is_found_in_a_sentence():
    for term in ANALYST_TERMS:
        assert term in analyst_terms_in(f"We used {term} here.")
