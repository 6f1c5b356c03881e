"""Research models beside the CLV study's: on CDNOW each reduces to the model it nests
(GGompertz/NBD's b -> 0, CNBD-k's k = 1) or ends on its family's bound (correlated
Pareto/NBD), and the sentence says so; on customers simulated with regular (Erlang-3)
buying the BG/CNBD-k is found and preferred."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab.errors import DataError
from crmlab.models import BGCNBD, BGNBD, MBGNBD, ParetoNBD
from crmlab.models.cnbd import simulate_summary
from crmlab.studies import research_models as rm


@pytest.fixture(scope="module")
def cdnow():
    tx = crmlab.load_dataset("cdnow_sample")
    summary = crmlab.rfm_summary(
        tx, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
    )
    study = {"Pareto/NBD": ParetoNBD().fit(summary), "BG/NBD": BGNBD().fit(summary)}
    study["MBG/NBD"] = MBGNBD().fit(summary)
    return tx, summary, study


@pytest.fixture(scope="module")
def fitted(cdnow):
    tx, summary, study = cdnow
    fits, notes = rm.fit_research_models(summary, tx)
    return fits, notes, rm.research_comparison(study, fits, summary)


def test_litt_comes_from_the_summary_window(cdnow):
    tx, summary, _ = cdnow
    regular = rm.with_regularity(summary, tx)
    direct = crmlab.rfm_summary(
        tx,
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="W",
        regularity=True,
    )
    np.testing.assert_allclose(regular["litt"], direct["litt"].reindex(summary.index))
    assert rm.with_regularity(summary, None) is summary
    with pytest.raises(DataError, match="not in the transactions"):
        rm.with_regularity(summary, tx[tx["customer_id"] != summary.index[0]])


def test_on_cdnow_the_research_models_reduce_to_the_study_models(cdnow, fitted):
    _, _, study = cdnow
    fits, notes, table = fitted
    assert list(table.index) == [
        "GGompertz/NBD",
        "BG/CNBD-1",
        "MBG/CNBD-1",
        "Pareto/NBD (correlated)",
    ]
    # b -> 0 and k = 1 give the nested model's maximum (Bemmaor & Glady's -9594.98)
    assert table.loc["GGompertz/NBD", "log_likelihood"] == pytest.approx(-9594.98, abs=0.005)
    for name in ("GGompertz/NBD", "BG/CNBD-1", "MBG/CNBD-1"):
        assert abs(table.loc[name, "ll_gain"]) < 1e-4
    assert table.loc["BG/CNBD-1", "holdout_error_pct"] == pytest.approx(
        table.loc["BG/CNBD-1", "nested_holdout_error_pct"], abs=1e-6
    )
    # the Sarmanov fit ends on its bound: +3.3 points, LR p = 0.010, BIC against it
    corr = table.loc["Pareto/NBD (correlated)"]
    assert corr["ll_gain"] == pytest.approx(3.31, abs=0.01)
    assert corr["lr_p"] == pytest.approx(0.0101, abs=2e-4)
    assert corr["delta_bic"] > 0 and "upper bound" in corr["reading"]
    assert "upper bound of the Sarmanov family" in notes["Pareto/NBD (correlated)"]
    # the BIC difference is the nested model's penalty and likelihood, recomputed
    n = len(cdnow[1])
    expected = np.log(n) * 1 - 2 * corr["ll_gain"]
    assert corr["delta_bic"] == pytest.approx(expected, abs=1e-6)
    text = rm.research_sentence(table, notes)
    assert "GGompertz/NBD reduces to the Pareto/NBD" in text
    assert "BG/CNBD-1 reduces to the BG/NBD" in text
    assert "gains 3.3 log-likelihood points over the Pareto/NBD" in text
    assert "not enough for the BIC" in text and "LognormalParetoNBD" in text


def test_without_transactions_the_cnbd_models_are_named_not_fitted(cdnow):
    _, summary, study = cdnow
    fits, notes = rm.fit_research_models(summary)
    assert set(fits) == {"GGompertz/NBD", "Pareto/NBD (correlated)"}
    text = rm.research_sentence(rm.research_comparison(study, fits, summary), notes)
    assert "BG/CNBD-k was not fitted" in text and "MBG/CNBD-k was not fitted" in text


def test_regular_buyers_are_found_and_preferred():
    truth = {"r": 2.0, "alpha": 6.0, "a": 1.0, "b": 4.0}
    data = simulate_summary(6000, k=3, **truth, holdout=26, seed=4)
    study = {"BG/NBD": BGNBD().fit(data)}
    table = rm.research_comparison(study, {"BG/CNBD-k": BGCNBD.fit_k(data, k_max=5)}, data)
    row = table.loc["BG/CNBD-3"]
    assert row["reading"] == "k = 3: purchases more regular than Poisson"
    assert row["ll_gain"] > 100 and row["delta_bic"] < 0
    assert abs(row["holdout_error_pct"]) < abs(row["nested_holdout_error_pct"])
    assert "the BIC prefers it" in rm.research_sentence(table)


def test_bad_input_is_named(cdnow):
    _, summary, study = cdnow
    with pytest.raises(DataError, match="at least one"):
        rm.research_comparison(study, {}, summary)
    with pytest.raises(DataError, match="not among"):
        rm.research_comparison(study, {"Weibull": study["BG/NBD"]}, summary)
    with pytest.raises(DataError, match="no fit of Pareto/NBD"):
        rm.research_comparison(
            {"BG/NBD": study["BG/NBD"]},
            {"GGompertz/NBD": study["Pareto/NBD"]},
            pd.DataFrame(summary),
        )
