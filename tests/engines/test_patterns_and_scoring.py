"""Fits on the engine's compressed patterns equal fits on the full summary; scores streamed
batch by batch to Parquet or DuckDB equal the fitted model's predictions on all customers."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import crmlab
from crmlab.engines.score import score
from crmlab.errors import DataError
from crmlab.models import BGNBD, MBGNBD, GammaGamma, ParetoNBD

CAL = "1997-09-30"


@pytest.fixture(scope="module")
def cdnow_parquet(tmp_path_factory, cdnow_sample) -> str:
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.parquet"
    cdnow_sample[["customer_id", "date", "amount"]].to_parquet(path)
    return str(path)


@pytest.fixture(scope="module")
def full(cdnow_sample) -> pd.DataFrame:
    return crmlab.rfm_summary(cdnow_sample, calibration_end=CAL)


@pytest.mark.parametrize("model", [BGNBD, MBGNBD, ParetoNBD])
def test_fit_from_engine_patterns_equals_fit_on_customers(cdnow_parquet, full, model):
    patterns = crmlab.rfm_summary(cdnow_parquet, calibration_end=CAL, patterns=True)
    assert len(patterns) < len(full) and patterns["weight"].sum() == len(full)
    a, b = model().fit(full), model().fit(patterns)
    np.testing.assert_allclose(b.params.to_numpy(), a.params.to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-9)
    np.testing.assert_allclose(b.bse.to_numpy(), a.bse.to_numpy(), rtol=1e-3)
    assert b.n_obs == a.n_obs == len(full)
    assert b.time_unit == a.time_unit == "W"


@pytest.mark.parametrize("target", ["parquet", "duckdb"])
def test_scores_streamed_in_batches_equal_whole_frame_predictions(
    tmp_path, cdnow_parquet, full, target
):
    fit = BGNBD().fit(crmlab.rfm_summary(cdnow_parquet, calibration_end=CAL, patterns=True))
    spend = GammaGamma().fit(full)
    out = str(tmp_path / ("scores.parquet" if target == "parquet" else "scores.duckdb"))
    done = score(
        cdnow_parquet,
        fit,
        out=out,
        table="scores",
        spend=spend,
        horizon=52,
        period=39,
        margin=0.3,
        annual_discount_rate=0.1,
        batch_size=500,  # 2,357 customers: five batches
        calibration_end=CAL,
    )
    assert done["rows"] == len(full) and done["engine"] == "duckdb"
    if target == "parquet":
        got = pq.read_table(out).to_pandas()
        assert pq.ParquetFile(out).metadata.num_row_groups == 5
    else:
        with duckdb.connect(out, read_only=True) as con:
            got = con.execute("SELECT * FROM scores").df()
    got = got.set_index("customer_id").sort_index()
    assert list(got.index) == list(full.index)
    np.testing.assert_allclose(got["p_alive"], fit.probability_alive(full), rtol=1e-12)
    np.testing.assert_allclose(got["expected_purchases"], fit.expected_purchases(39, full), 1e-12)
    np.testing.assert_allclose(got["expected_spend"], spend.expected_spend(full), rtol=1e-12)
    clv = fit.clv(full, spend=spend, margin=0.3, annual_discount_rate=0.1, horizon=52)
    np.testing.assert_allclose(got["clv"], clv, rtol=1e-12)
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(got[col], full[col], rtol=1e-12)


def test_scoring_refuses_a_unit_mismatch_and_non_models(tmp_path, cdnow_parquet, full):
    fit = BGNBD().fit(full)
    with pytest.raises(DataError, match="time unit 'W'"):
        score(
            cdnow_parquet,
            fit,
            out=str(tmp_path / "x.parquet"),
            discount_rate=0.0,
            time_unit="D",
        )
    with pytest.raises(DataError, match="cannot score customers"):
        score(cdnow_parquet, GammaGamma().fit(full), out=str(tmp_path / "x.parquet"))
    with pytest.raises(DataError, match="give exactly one of discount_rate"):
        score(cdnow_parquet, fit, out=str(tmp_path / "x.parquet"))
