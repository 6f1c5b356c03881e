"""Exercises of notebook 02, customer share (Parfitt-Collins, the Wallet Allocation Rule,
the Dirichlet benchmark and double jeopardy, market versus customer share).

The check cells pass the notebook's objects: ``pc`` (:func:`crmlab.share.parfitt_collins`
of the panel), ``focus`` (the brand studied in detail), ``bench``
(:func:`crmlab.share.dirichlet_benchmark`), ``misfits`` (:func:`crmlab.share.dirichlet_misfits`),
``fit`` (the fitted Dirichlet) and ``mvc`` (:func:`crmlab.share.market_vs_customer_share` of
the simulated wallets).
"""

from __future__ import annotations

import pandas as pd

from crmlab import share
from crmlab.share.dirichlet import DirichletFit
from crmlab.teach.core import Exercise, Mistake, Option

LIFT = 0.10  # exercise 1: penetration gained, as a fraction (10 percentage points)
RANKS = (2, 1)  # exercise 2: the brand moves from 2nd to 1st ...
N_USED = 3  # ... among the 3 brands the customer uses


# ------------------------------------------------ 02.1: Parfitt-Collins as a what-if


def lifted_share(pc: pd.DataFrame, focus: str, lift: float = LIFT) -> float:
    """Market share of ``focus`` with its penetration share raised by ``lift`` and its SCR
    and buying-level index unchanged (the Parfitt-Collins product)."""
    row = pc.loc[focus]
    return float((row["penetration_share"] + lift) * row["scr"] * row["buying_level_index"])


def _lift_explain(pc: pd.DataFrame, focus: str) -> str:
    row = pc.loc[focus]
    return (
        f"{focus}: penetration {row['penetration_share']:.1%} -> "
        f"{row['penetration_share'] + LIFT:.1%}, SCR {row['scr']:.1%}, buying-level index "
        f"{row['buying_level_index']:.2f}: market share {row['market_share']:.1%} -> "
        f"{lifted_share(pc, focus):.1%}. Ten points of penetration add ten points times SCR "
        "times the buying-level index, not ten points of share. Parfitt and Collins used the "
        "decomposition this way, to predict a new brand's share once its repeat rate had "
        "settled; a real campaign tends to recruit lighter, less committed buyers, so SCR and "
        "the index would probably fall: the what-if is an upper bound, not a forecast."
    )


PENETRATION_LIFT = Exercise(
    id="02.1",
    kind="code",
    question=(
        "**Parfitt-Collins as a what-if.** Market share = penetration share x SCR x "
        "buying-level index. Suppose a campaign raises the focus brand's penetration share by "
        "**10 percentage points** while its SCR and buying-level index stay as they are. "
        "Write the line that computes its market share then, from the Parfitt-Collins "
        "table `pc` (`share.parfitt_collins(purchases)`) and the brand `focus`. Two decimals "
        "are enough."
    ),
    needs=("pc", "focus"),
    expected=lambda pc, focus: lifted_share(pc, focus),
    tolerance=0.01,
    unit="fraction",
    fmt="{:.3f}",
    code=(
        '(pc.loc[focus, "penetration_share"] + 0.10) * pc.loc[focus, "scr"] '
        '* pc.loc[focus, "buying_level_index"]'
    ),
    hints=(
        "Only one of the three factors changes; the market share is their product.",
        "Take the focus brand's row of pc, add 0.10 to penetration_share and multiply by "
        "scr and buying_level_index.",
    ),
    mistakes=(
        Mistake(
            lambda pc, focus: float(pc.loc[focus, "market_share"]),
            "That is the brand's market share today; raise its penetration first.",
        ),
        Mistake(
            lambda pc, focus: float(pc.loc[focus, "market_share"]) + LIFT,
            "Ten points of penetration are not ten points of market share: the new buyers "
            "give the brand only part of their category purchases (SCR), and buy the "
            "category at their own rate (the buying-level index).",
        ),
        Mistake(
            lambda pc, focus: float(pc.loc[focus, "market_share"]) * (1 + LIFT),
            "That raises penetration by 10% of itself; the question adds 10 percentage "
            "points (0.10) to the penetration share.",
        ),
        Mistake(
            lambda pc, focus: float(pc.loc[focus, "penetration_share"]) + LIFT,
            "That is the new penetration share; multiply it by SCR and the buying-level "
            "index to get the market share.",
        ),
    ),
    solution=(
        "Keep SCR and the buying-level index of the focus brand, add 0.10 to its "
        "penetration share and multiply the three factors, as the decomposition does."
    ),
    explain=_lift_explain,
)


# ------------------------------------------- 02.2: what a rank is worth under the rule


def rank_gain(ranks: tuple[int, int] = RANKS, n_used: int = N_USED) -> float:
    """Rise in the Wallet Allocation Rule's share when the brand moves between two ranks."""
    before, after = share.wallet_allocation_rule(list(ranks), [n_used, n_used])
    return float(after - before)


def _rank_explain() -> str:
    shares = share.wallet_allocation_rule([1, 2, 3], [N_USED] * 3)
    return (
        f"With three brands the rule gives {shares[0]:.1%}, {shares[1]:.1%} and "
        f"{shares[2]:.1%} to the first, second and third: each rank is worth "
        f"2 / (N(N+1)) = {rank_gain():.1%} of the wallet, whatever the satisfaction scores "
        "behind it. Keiningham et al.'s point: what grows share of wallet is beating the "
        "competitors in the customer's ranking, not raising a satisfaction score that leaves "
        "the ranking as it is. Note that the middle rank gets exactly 1/N, the equal split."
    )


RANK_GAIN = Exercise(
    id="02.2",
    kind="code",
    question=(
        "A customer uses **three** brands and ranks yours **second**. Your service improves "
        "and the customer now ranks you **first** (still three brands). By how much does the "
        "share of wallet predicted by the Wallet Allocation Rule rise? Write the line with "
        "`share.wallet_allocation_rule(rank, n_used)` (it takes arrays). Two decimals are "
        "enough."
    ),
    needs=(),
    expected=lambda: rank_gain(),
    tolerance=0.01,
    unit="fraction",
    fmt="{:.4f}",
    code="share.wallet_allocation_rule([1], [3])[0] - share.wallet_allocation_rule([2], [3])[0]",
    hints=(
        "You need the rule's share at two ranks for the same N, and their difference.",
        "Call share.wallet_allocation_rule with rank 1 and with rank 2, both with "
        "n_used 3, and subtract the second from the first.",
    ),
    mistakes=(
        Mistake(
            lambda: float(share.wallet_allocation_rule([1], [N_USED])[0]),
            "That is the share at rank 1; the question asks how much it rises from rank 2.",
        ),
        Mistake(
            lambda: float(share.wallet_allocation_rule([2], [N_USED])[0]),
            "That is the share at rank 2; the question asks how much it rises at rank 1.",
        ),
        Mistake(
            lambda: (1 - 1 / (N_USED + 1)) - (1 - 2 / (N_USED + 1)),
            "You left out the factor 2 / N of the rule.",
        ),
    ),
    solution=(
        "The rule is `(1 − r/(N+1)) × 2/N`; the difference between ranks r and r+1 is "
        "`2 / (N(N+1))`, the same between any two neighbouring ranks."
    ),
    explain=lambda: _rank_explain(),
)


# --------------------------------------------------------- 02.3: double jeopardy


def jeopardy_rows(bench: pd.DataFrame) -> dict:
    """Observed and Dirichlet purchase frequency and penetration of the largest and the
    smallest brand by market share."""
    big, small = bench["market_share"].idxmax(), bench["market_share"].idxmin()
    cols = [
        "market_share",
        "penetration_observed",
        "penetration_expected",
        "purchase_frequency_observed",
        "purchase_frequency_expected",
    ]
    return {"big": big, "small": small, **{b: bench.loc[b, cols].to_dict() for b in (big, small)}}


def _jeopardy_explain(bench: pd.DataFrame) -> str:
    j = jeopardy_rows(bench)
    big, small = j[j["big"]], j[j["small"]]

    def line(name: str, r: dict) -> str:
        return (
            f"{name} ({r['market_share']:.1%} of the market): penetration "
            f"{r['penetration_observed']:.1%} against {r['penetration_expected']:.1%} "
            f"expected, {r['purchase_frequency_observed']:.2f} purchases per buyer against "
            f"{r['purchase_frequency_expected']:.2f} expected"
        )

    return (
        f"{line(j['big'], big)}; {line(j['small'], small)}. The Dirichlet alone, with no "
        "brand more loyal than another, predicts the small brand "
        f"{small['purchase_frequency_expected']:.2f} purchases per buyer against "
        f"{big['purchase_frequency_expected']:.2f} for the leader: that much of the gap is "
        "size. The small brand's loyalty question is its observed frequency against its own "
        "expected value: "
        + (
            "here it falls short of that too, so part of the gap is more than size: a "
            "question to answer (section 4 discusses the brands far from their benchmark) "
            "before paying for a loyalty programme."
            if small["purchase_frequency_observed"] < small["purchase_frequency_expected"]
            else "here it meets it, so the gap to the leader is size, not disloyalty."
        )
    )


DOUBLE_JEOPARDY = Exercise(
    id="02.3",
    kind="choose",
    question=(
        "**Double jeopardy.** In this panel the smallest brand's buyers buy it fewer times "
        "than the market leader's buyers buy the leader. The small brand's manager concludes "
        "that its buyers are disloyal and that a loyalty programme should close the gap to "
        "the leader. What does the Dirichlet benchmark say?"
    ),
    needs=("bench",),
    options={
        "a": Option(
            "The manager is right: purchase frequency measures loyalty, and the gap to the "
            "leader is the loyalty to win back.",
            "The Dirichlet predicts a lower frequency for a smaller brand even when no brand "
            "is more loyal than another (double jeopardy), so much of the gap to the leader "
            "is size, not a loyalty problem.",
        ),
        "b": Option(
            "Part of the gap comes with its size: only a shortfall against the Dirichlet's "
            "value for its share can signal a loyalty problem.",
            "Double jeopardy: smaller brands have fewer buyers who also buy them a little "
            "less often. The benchmark for a brand is the Dirichlet's value at its own "
            "market share, not the leader's observed value.",
            correct=True,
        ),
        "c": Option(
            "Small brands have more loyal buyers than big ones (a niche following), so the "
            "gap must come from an error in the panel.",
            "The Dirichlet predicts the opposite: a small brand's buyers buy it slightly "
            "less often. Niche brands with unusually loyal buyers exist, and they show up "
            "as deviations from the benchmark.",
        ),
        "d": Option(
            "Frequency does not matter for a small brand: its market share depends on "
            "penetration alone, so it should only recruit new buyers.",
            "Market share is penetration x SCR x buying-level index (Parfitt-Collins): how "
            "often buyers buy the brand enters through SCR. Double jeopardy says both "
            "penetration and frequency are lower for small brands.",
        ),
    },
    hints=(
        "What does the Dirichlet predict for the frequency of a brand of the small "
        "brand's size, in a market where no brand is more loyal than another?",
        "Compare purchase_frequency_observed with purchase_frequency_expected in bench for "
        "the smallest and the largest brand (market_share).",
    ),
    solution=(
        "Double jeopardy (Ehrenberg, Goodhardt & Barwise 1990): small brands have fewer "
        "buyers, and those buyers buy them slightly less often. The Dirichlet, which gives "
        "every brand the same kind of loyalty, predicts this gap from the market shares "
        "alone, so the small brand's frequency must be judged against the Dirichlet's value "
        "for its share, not against the leader."
    ),
    explain=_jeopardy_explain,
)


# ------------------------------------------- 02.4: why above-benchmark SCR is not loyalty


def misfit_case(misfits: pd.DataFrame, fit: DirichletFit) -> dict:
    """The misfit brand with the largest SCR above the Dirichlet's (or, without one, the
    brand furthest from it): its SCR observed and expected, its own S and the fitted S."""
    over = misfits[misfits["misfit"] & (misfits["scr_deviation"] > 0)]
    pool = over if len(over) else misfits
    brand = str(pool["scr_deviation"].abs().idxmax())
    row = misfits.loc[brand]
    return {
        "brand": brand,
        "misfit": bool(row["misfit"]),
        "misfits": [str(b) for b in misfits.index[misfits["misfit"]]],
        "scr_observed": float(row["scr_observed"]),
        "scr_expected": float(row["scr_expected"]),
        "s_brand": float(row["s_brand"]),
        "s": float(fit.s),
        "s_range": (float(misfits["s_brand"].min()), float(misfits["s_brand"].max())),
    }


def _misfit_explain(misfits: pd.DataFrame, fit: DirichletFit) -> str:
    c = misfit_case(misfits, fit)
    low, high = c["s_range"]
    which = (
        f"{c['brand']}, a misfit,"
        if c["misfit"]
        else f"{c['brand']} (no brand is a misfit in this panel)"
    )
    return (
        f"Here {which} has an SCR of {c['scr_observed']:.1%} against {c['scr_expected']:.1%} "
        f"expected. Its own penetration implies S = {c['s_brand']:.2f}, against the single "
        f"S = {c['s']:.2f} the benchmark uses for every brand (the brands' own values run "
        f"from {low:.2f} to {high:.2f}). The benchmark's SCR for it comes from a market it "
        "is not in: the gap says the brand's buyers form a different market (a segment, a "
        "function), not that a brand of its size has won more loyalty than it should."
    )


MISFIT_WHY = Exercise(
    id="02.4",
    kind="why",
    question=(
        "A brand's SCR lies well above the Dirichlet's expectation, and the brand is also a "
        "**misfit**: its penetration is far from the Dirichlet's, beyond chance. Why is it "
        "not safe to conclude that the brand has 'more loyal buyers than a brand of its size "
        "should have'?"
    ),
    needs=("misfits", "fit"),
    options={
        "a": Option(
            "One S for one unsegmented market cannot describe a misfit's buyers, so its "
            "expected SCR is no yardstick for it.",
            "The Dirichlet assumes one stationary, unsegmented market described by a single "
            "S. A brand whose own penetration implies a very different S breaks that "
            "assumption: its gap says 'different' (a segment, a function), not 'more loyal "
            "than its size predicts'.",
            correct=True,
        ),
        "b": Option(
            "SCR is measured among the brand's buyers only, so a brand with few buyers "
            "always shows a high SCR, whatever its buyers do.",
            "The Dirichlet's expected SCR is also computed among the brand's buyers, so the "
            "comparison is like for like; the number of buyers alone does not make it high.",
        ),
        "c": Option(
            "The panel is a sample of a hundred or a few thousand households, so the gap "
            "in SCR may be no more than chance.",
            "A brand is called a misfit only when the Dirichlet's penetration lies outside "
            "the observed penetration's sampling interval: chance is ruled out. The "
            "problem is with the model for this brand, not with the sample.",
        ),
        "d": Option(
            "The panel counts purchase occasions, not units, so heavy buyers are "
            "under-counted and the brand's SCR is overstated.",
            "Observed and expected SCR both count occasions, so the unit does not explain "
            "a gap between them; and counting occasions does not favour any brand.",
        ),
    },
    hints=(
        "What does the Dirichlet assume about the market, and which single number carries "
        "that assumption for every brand?",
        "Compare, in the misfit table, the S each brand's penetration implies on its own "
        "(s_brand) with the fitted S (fit.s), for the misfits and for the other brands.",
    ),
    solution=(
        "The Dirichlet's expectations come from one model of one unsegmented market, with a "
        "single S averaged over the brands. When a brand's own penetration implies a very "
        "different S (a misfit beyond chance), the benchmark does not describe that brand's "
        "buyers, and its deviation in SCR measures the misfit as much as loyalty. The "
        "benchmark then says 'different', and the manager's job is to find out why."
    ),
    explain=_misfit_explain,
)


# ---------------------------------------------- 02.5: what a built-in result can show


def leader_row(mvc: pd.DataFrame) -> dict:
    """The market leader's market share, share of the best wallets and ranks."""
    leader = str(mvc["market_share"].idxmax())
    row = mvc.loc[leader]
    return {
        "leader": leader,
        "market_share": float(row["market_share"]),
        "best": float(row["share_of_best_wallets"]),
        "best_rank": int(row["best_wallet_rank"]),
        "best_firm": str(mvc["share_of_best_wallets"].idxmax()),
    }


def _built_in_explain(mvc: pd.DataFrame) -> str:
    r = leader_row(mvc)
    return (
        f"In the simulation {r['leader']} holds {r['market_share']:.1%} of all spending and "
        f"{r['best']:.1%} of the best customers' wallets (rank {r['best_rank']} on that "
        f"measure; {r['best_firm']} leads it). The simulation was written to produce this "
        "(a mass-market firm heavy buyers rate lower, a premium firm they rate highly), so "
        "the table shows that the two measures *can* disagree and that "
        "share.market_vs_customer_share finds it when it is there: a check of the method, "
        "not a fact about markets."
    )


BUILT_IN = Exercise(
    id="02.5",
    kind="choose",
    question=(
        "In section 6 the market leader, Firm A, holds a smaller share of the best "
        "customers' wallets than of the market. That result is built into the simulation. "
        "What can you conclude from it?"
    ),
    needs=("mvc",),
    options={
        "a": Option(
            "Market leaders tend to lose the best customers' wallets to premium rivals that "
            "heavy buyers rate more highly than them.",
            "The simulation was written with a mass-market Firm A that heavy buyers rate "
            "lower: the result follows from that assumption and says nothing about how "
            "often it happens in real markets.",
        ),
        "b": Option(
            "Firm A should move up-market, like Firm B: it would then win back the best "
            "customers' wallets.",
            "The simulation has no prices, costs or competitor reactions; nothing in it "
            "says what a move would do. It describes shares, not the effect of a strategy.",
        ),
        "c": Option(
            "Nothing at all: data made up by a simulation cannot teach anything about "
            "market or customer shares.",
            "A simulation whose truth is known shows what a measure picks up: here that "
            "market share and the share of the best wallets can rank firms differently, "
            "and that the function finds such a gap when it is there.",
        ),
        "d": Option(
            "That the two measures can rank firms differently; whether a real leader loses "
            "the best wallets needs its own data.",
            "The simulation shows the mechanism and checks the method: "
            "share.market_vs_customer_share on a firm's own wallet data answers the "
            "question for that firm.",
            correct=True,
        ),
    },
    hints=(
        "Read the paragraph 'Built in, not found' of section 6: where does the result come from?",
        "Separate what the simulation assumes (how customers rate and use Firms A and B) "
        "from what the table then shows, and ask which conclusions go beyond the assumption.",
    ),
    solution=(
        "A result built into a simulation cannot be evidence for itself: it shows that the "
        "two measures can disagree (a mechanism that is possible) and that the crmlab "
        "function detects the gap, not that leaders do lose the best wallets. On a firm's "
        "data, the same function answers the question."
    ),
    explain=_built_in_explain,
)


EXERCISES = (PENETRATION_LIFT, RANK_GAIN, DOUBLE_JEOPARDY, MISFIT_WHY, BUILT_IN)
