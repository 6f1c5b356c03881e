"""Exercises of notebook 07, the single customer view and the learning relationship.

The check cells pass the notebook's objects: ``sources`` (the three systems' tables),
``crm`` (the simulation, whose ``truth`` says which person each record belongs to),
``COLUMNS`` (each system's column names), ``rules`` (the matching rules in order),
``hits`` (:func:`crmlab.recommend.evaluate`) and the recommender's parameters
``n_retail_customers``, ``k``, ``history_lengths``, ``test_share`` and ``seed``.
"""

from __future__ import annotations

import pandas as pd

from crmlab import integration, recommend, simulate
from crmlab.teach.core import Exercise, Mistake, Option, direction

WITHOUT_EMAIL = ("customer_id", "phone")  # exercise 1: the rules without the e-mail rule
LESS_LOYAL = 0.4  # exercise 4: share of purchases from the favourite group, less loyal tastes
PERSONAL, BEST_SELLERS = "cosine", "popularity"  # exercise 3: the two recommenders compared

_evaluated: list = []  # (sources, truth, columns, rules, result): one evaluation per call set


def _evaluate(sources: dict, crm, columns: dict, rules: tuple[str, ...]) -> pd.DataFrame:
    """:func:`crmlab.integration.evaluate_rules` for these rules (kept for the same objects:
    a check and its feedback evaluate the same matching several times)."""
    rules = tuple(rules)
    for s, t, c, r, result in _evaluated:
        if s is sources and t is crm.truth and c is columns and r == rules:
            return result
    result = integration.evaluate_rules(sources, crm.truth, rules=rules, columns=columns)
    _evaluated.append((sources, crm.truth, columns, rules, result))
    del _evaluated[:-8]
    return result


# --------------------------------------------------- 07.1: recall without the e-mail rule


def recall_without_email(sources: dict, crm, COLUMNS: dict) -> float:
    """Recall of the matching by customer number and phone only."""
    return float(_evaluate(sources, crm, COLUMNS, WITHOUT_EMAIL)["recall"].iloc[-1])


def _all_rules(sources: dict, crm, COLUMNS: dict) -> pd.Series:
    return _evaluate(sources, crm, COLUMNS, tuple(integration.RULES)).iloc[-1]


def _email_explain(sources: dict, crm, COLUMNS: dict) -> str:
    without = _evaluate(sources, crm, COLUMNS, WITHOUT_EMAIL).iloc[-1]
    full = _all_rules(sources, crm, COLUMNS)
    return (
        f"Without the e-mail rule recall is {without['recall']:.1%} (all three rules: "
        f"{full['recall']:.1%}) and precision {without['precision']:.1%} (all three: "
        f"{full['precision']:.1%}). The e-mail is the key that ties the service desk's "
        "tickets without a customer number and the marketing contacts without a phone to "
        "the rest; phones catch only part of them and still merge the people who share a "
        f"household line. {int(without['persons_exact']):,} of {int(without['persons_true']):,} "
        f"true persons are recovered exactly, against {int(full['persons_exact']):,} with all "
        "rules."
    )


WITHOUT_EMAIL_CODE = Exercise(
    id="07.1",
    kind="code",
    question=(
        "How much does the e-mail rule contribute? Write the line that computes the "
        "**recall** of the matching by customer number and phone only (rules "
        '`("customer_id", "phone")`, no e-mail), checked against the simulated truth with '
        "`integration.evaluate_rules`. Two decimals are enough."
    ),
    needs=("sources", "crm", "COLUMNS"),
    expected=recall_without_email,
    tolerance=0.01,
    unit="fraction",
    fmt="{:.3f}",
    code=(
        'integration.evaluate_rules(sources, crm.truth, rules=("customer_id", "phone"), '
        'columns=COLUMNS).iloc[-1]["recall"]'
    ),
    hints=(
        "The notebook's evaluation table was made by one call with the notebook's rules; "
        "make it again with other rules.",
        "Call integration.evaluate_rules(sources, crm.truth, rules=..., columns=COLUMNS) "
        "with the two rules, and read the column recall in its last row (all the rules "
        "given).",
    ),
    mistakes=(
        Mistake(
            lambda sources, crm, COLUMNS: _all_rules(sources, crm, COLUMNS)["recall"],
            "That is the recall with all three rules; leave the e-mail rule out.",
        ),
        Mistake(
            lambda sources, crm, COLUMNS: _evaluate(sources, crm, COLUMNS, WITHOUT_EMAIL)[
                "precision"
            ].iloc[-1],
            "That is the precision (pairs merged that are right); recall is the share of "
            "the pairs that belong together that were merged.",
        ),
        Mistake(
            lambda sources, crm, COLUMNS: _evaluate(sources, crm, COLUMNS, WITHOUT_EMAIL)[
                "recall"
            ].iloc[0],
            "That is the recall of the customer number alone (the first row); take the row "
            "with both rules.",
        ),
    ),
    solution=(
        "`evaluate_rules` adds the rules one at a time; its last row is the matching with "
        "both. Recall counts the pairs of records that belong to the same person and were "
        "merged, over all such pairs: dropping a rule removes links, so recall can only "
        "fall."
    ),
    explain=_email_explain,
)


# ----------------------------------------------- 07.2: predict: the rules in reverse order


def reversed_before_after(sources: dict, crm, COLUMNS: dict, rules: list) -> tuple[float, float]:
    """Precision of the final matching with the rules in the notebook's order and reversed."""
    forward = _evaluate(sources, crm, COLUMNS, tuple(rules))
    backward = _evaluate(sources, crm, COLUMNS, tuple(reversed(rules)))
    return float(forward["precision"].iloc[-1]), float(backward["precision"].iloc[-1])


def _order_explain(sources: dict, crm, COLUMNS: dict, rules: list) -> str:
    before, after = reversed_before_after(sources, crm, COLUMNS, rules)
    back = tuple(reversed(rules))
    view = integration.single_customer_view(sources, rules=back, columns=COLUMNS)
    merged = ", ".join(f"{r} {int(n):,}" for r, n in view.rules["merges"].items())
    return (
        f"Precision {before:.2%} in the order {' > '.join(rules)} and {after:.2%} in the "
        f"order {' > '.join(back)}; recall and the persons found do not change either. The "
        "order only changes which rule gets the credit: persons merged away by each rule "
        f"in the reversed order: {merged}."
    )


ORDER_PREDICT = Exercise(
    id="07.2",
    kind="predict",
    question=(
        "Before you run anything: apply the same rules in the **reverse order** (phone "
        "first, customer number last). Does the precision of the final matching go "
        '"up", "down" or stay the "same"? Write your prediction, run the cell, then '
        "compute it with `integration.evaluate_rules(..., rules=tuple(reversed(rules)), "
        "...)`."
    ),
    needs=("sources", "crm", "COLUMNS", "rules"),
    expected=lambda sources, crm, COLUMNS, rules: direction(
        *reversed_before_after(sources, crm, COLUMNS, rules), same_within=5e-4
    ),
    code=(
        'evaluation.iloc[-1]["precision"], integration.evaluate_rules(sources, crm.truth, '
        'rules=tuple(reversed(rules)), columns=COLUMNS).iloc[-1]["precision"]'
    ),
    hints=(
        "Think of the records as dots and of each rule as drawing lines between dots that "
        "share a key. Does the picture at the end depend on which lines were drawn first?",
        "A person is a connected component of the record graph (union-find). Compare the "
        "last row of evaluate_rules for rules and for tuple(reversed(rules)).",
    ),
    solution=(
        "Each rule adds edges between records with the same key, and a person is a "
        "connected component of the graph of all edges. The set of edges after all rules "
        "is the same in any order, so the persons, and with them precision and recall, are "
        "the same. Only the attribution changes: `linked_by` names the first rule under "
        "which a record matched, and the rules table credits each merge to the rule that "
        "made it."
    ),
    explain=_order_explain,
)


# --------------------------------------------- 07.3: the switching cost in hit-rate points


def gap_points(hits: pd.DataFrame, method: str = PERSONAL, at: str = "last") -> float:
    """Hit rate of ``method`` minus the best-sellers', in percentage points, at the longest
    (``at="last"``) or shortest (``"first"``) history."""
    rates = hits.pivot(index="n_history", columns="method", values="hit_rate")
    row = rates.iloc[-1] if at == "last" else rates.iloc[0]
    return float(100 * (row[method] - row[BEST_SELLERS]))


def _gap_explain(hits: pd.DataFrame) -> str:
    rates = hits.pivot(index="n_history", columns="method", values="hit_rate")
    first, last = rates.index[0], rates.index[-1]
    g0, g1 = gap_points(hits, at="first"), gap_points(hits)
    trend = "grows" if g1 > g0 else "does not grow"
    return (
        f"With {last} past purchases known, personal recommendations catch the next new "
        f"category {rates.loc[last, PERSONAL]:.1%} of the time and best-sellers "
        f"{rates.loc[last, BEST_SELLERS]:.1%}: a gap of {g1:.1f} points. With {first} "
        f"purchase(s) known the gap is {g0:.1f} points, so here it {trend} as the firm "
        "learns (each history length is judged on the customers who bought that often "
        "and then something new). A competitor who knows none of the customer's "
        "purchases can offer only best-sellers: that gap is what the customer gives up by "
        "switching, until they have taught the competitor as much."
    )


SWITCHING_COST = Exercise(
    id="07.3",
    kind="code",
    question=(
        "**The learning relationship.** A customer who has taught the firm their tastes "
        "would have to teach a competitor from scratch; the competitor can only recommend "
        "best-sellers. Write the line that computes, from `hits`, how many **percentage "
        "points** the personal recommendations (cosine) beat the best-sellers (popularity) "
        "by, at the **longest** history. One decimal is enough."
    ),
    needs=("hits",),
    expected=lambda hits: gap_points(hits),
    tolerance=0.15,
    unit="percent",
    fmt="{:.2f}",
    code=(
        'hits.pivot(index="n_history", columns="method", values="hit_rate")'
        '.eval("100 * (cosine - popularity)").iloc[-1]'
    ),
    hints=(
        "The hit-rate table has one row per history length and method; you need two of "
        "its rates, at the same history length, and their difference.",
        "Pivot hits to one column per method (index n_history, values hit_rate), take the "
        "last row, subtract the popularity rate from the cosine rate and multiply by 100.",
    ),
    mistakes=(
        Mistake(
            lambda hits: gap_points(hits, method="lift"),
            "That is the lift recommender's gap; the question asks about cosine.",
        ),
        Mistake(
            lambda hits: gap_points(hits, at="first"),
            "That is the gap at the shortest history; take the longest one.",
        ),
        Mistake(
            lambda hits: (
                100
                * float(
                    hits.pivot(index="n_history", columns="method", values="vs_popularity")
                    .iloc[-1]
                    .loc[PERSONAL]
                )
            ),
            "That is the ratio of the two hit rates (times 100); the question asks for "
            "their difference in percentage points.",
        ),
    ),
    solution=(
        "Both hit rates are measured on the same test customers and targets at each "
        "history length, so their difference says how much more often the firm that knows "
        "the customer's purchases recommends the category they buy next. Multiplied by 100 "
        "it is in percentage points."
    ),
    explain=_gap_explain,
)


# ---------------------------------------------------- 07.4: predict: less loyal tastes


def loyalty_before_after(
    hits: pd.DataFrame,
    n_retail_customers: int,
    k: int,
    history_lengths: list,
    test_share: float,
    seed: int,
) -> tuple[float, float]:
    """The gap of exercise 3 (points) for the notebook's shoppers and for shoppers who buy
    only ``LESS_LOYAL`` of the time from their favourite group of categories."""
    shop = simulate.shoppers(n_retail_customers, loyalty=LESS_LOYAL, seed=seed)
    less = recommend.evaluate(
        shop.tables["transactions"],
        k=k,
        history_lengths=tuple(history_lengths),
        test_share=test_share,
        seed=seed,
    )
    return gap_points(hits), gap_points(less)


def _loyalty_explain(**objects) -> str:
    before, after = loyalty_before_after(**objects)
    return (
        f"The gap at the longest history is {before:.1f} points for the notebook's shoppers "
        f"and {after:.1f} points when they buy only {LESS_LOYAL:.0%} of the time from their "
        "favourite group. When past purchases say little about the next one, what the firm "
        "has learned is worth little, to the customer and against the competitor: the "
        "learning relationship binds customers whose tastes are stable enough to learn."
    )


LOYALTY_PREDICT = Exercise(
    id="07.4",
    kind="predict",
    question=(
        "Before you run anything: suppose the shoppers' tastes were less predictable, "
        f"buying only **{LESS_LOYAL:.0%}** of the time from their favourite group of "
        "categories (`taste_loyalty`) instead of the notebook's share. Does the gap of "
        'exercise 07.3 (cosine minus best-sellers at the longest history) go "up", '
        '"down" or stay the "same"? Write your prediction, then compute it: simulate the '
        f"shoppers with `simulate.shoppers(n_retail_customers, loyalty={LESS_LOYAL}, "
        "seed=seed)` and evaluate them as the notebook does."
    ),
    needs=("hits", "n_retail_customers", "k", "history_lengths", "test_share", "seed"),
    expected=lambda **objects: direction(*loyalty_before_after(**objects), same_within=5e-4),
    code=(
        'hits.pivot(index="n_history", columns="method", values="hit_rate")'
        '.eval("100 * (cosine - popularity)").iloc[-1], recommend.evaluate('
        f"simulate.shoppers(n_retail_customers, loyalty={LESS_LOYAL}, seed=seed)"
        '.tables["transactions"], k=k, history_lengths=tuple(history_lengths), '
        'test_share=test_share, seed=seed).pivot(index="n_history", columns="method", '
        'values="hit_rate").eval("100 * (cosine - popularity)").iloc[-1]'
    ),
    hints=(
        "What does the recommender learn from a customer's past purchases, and what is it "
        "worth when those purchases say little about the next one?",
        "Simulate the shoppers with loyalty=0.4, run recommend.evaluate on their "
        "transactions with the notebook's k, history_lengths, test_share and seed, and "
        "compute the gap of exercise 07.3 for both evaluations.",
    ),
    solution=(
        "Item-to-item recommendations exploit the fact that a customer's purchases cluster "
        "in related categories. With less loyal tastes the purchases spread over all "
        "categories, the history predicts the next category worse, and the personal "
        "recommendations fall towards the best-sellers: the switching cost the firm's "
        "knowledge creates shrinks."
    ),
    explain=_loyalty_explain,
)


# ----------------------------------------------- 07.5: overlapping intervals (why)


def overlapping(hits: pd.DataFrame) -> pd.DataFrame:
    """Rows whose interval overlaps the best method's at the same history length."""
    table = recommend.compare_hit_rates(hits)
    return table[table["overlaps_best"]]


def _overlap_explain(hits: pd.DataFrame) -> str:
    table = recommend.compare_hit_rates(hits)
    rows = table[table["overlaps_best"]]
    if rows.empty:
        return (
            "In this run no method's interval overlaps the best one's at any history "
            "length, so each ranking is one the data can tell. Rerun with fewer shoppers "
            "and the intervals widen until they do overlap."
        )
    row = rows.iloc[0]
    best = table[(table["n_history"] == row["n_history"]) & table["best"]].iloc[0]
    return (
        f"Here, with {row['n_history']} past purchases known, {best['method']} hits "
        f"{best['hit_rate']:.1%} (95% {best['lower']:.1%} to {best['upper']:.1%}) and "
        f"{row['method']} {row['hit_rate']:.1%} ({row['lower']:.1%} to {row['upper']:.1%}): "
        "true hit rates in the shared range are consistent with both, so another draw of "
        "test customers could put them in the other order. The notebook names no winner "
        "there."
    )


OVERLAP_WHY = Exercise(
    id="07.5",
    kind="why",
    question=(
        "The hit-rate table marks the methods whose 95% interval overlaps the best "
        "method's at the same history length. Why do the data then not show that the "
        "method ranked first is better?"
    ),
    needs=("hits",),
    options={
        "a": Option(
            "Because overlapping intervals prove that the two methods' true hit rates are "
            "equal, so neither of them can be better.",
            "Overlap does not prove equality: the true rates may differ, by an amount "
            "these test customers are too few to measure.",
        ),
        "b": Option(
            "Because the two methods were evaluated on different test customers, so their "
            "hit rates cannot be compared at all.",
            "At a given history length every method is judged on the same test customers "
            "and the same next categories.",
        ),
        "c": Option(
            "Because each interval holds the hit rates the data allow; where they overlap, "
            "both orders of the true rates are possible.",
            "The observed order could be an accident of which customers were drawn into "
            "the test set; more test customers would narrow the intervals.",
            correct=True,
        ),
        "d": Option(
            "Because 95% intervals are too wide for comparisons; only 99% intervals would be "
            "narrow enough to show which method is better.",
            "A 99% interval is *wider* than a 95% one: it would make overlaps more common, "
            "not less.",
        ),
    },
    hints=(
        "What does a 95% interval say about where a method's true hit rate lies?",
        "Take one overlapping pair in the table and pick a hit rate inside both "
        "intervals: could it be the true rate of either method?",
    ),
    solution=(
        "Each 95% interval is the range of true hit rates consistent with the observed "
        "hits. When two ranges overlap, the data allow true rates in either order, so the "
        "ranking may be sampling noise. (Overlap is a cautious check: a test of the "
        "difference on the same customers can sometimes separate rates whose intervals "
        "overlap slightly, but the intervals alone do not.)"
    ),
    explain=_overlap_explain,
)


EXERCISES = (WITHOUT_EMAIL_CODE, ORDER_PREDICT, SWITCHING_COST, LOYALTY_PREDICT, OVERLAP_WHY)
