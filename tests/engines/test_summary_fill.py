"""The summary filled batch by batch (crmlab.engines.summary.fill_summary, what DuckDB's
Plan.summary uses) equals the frame built from the whole result, in any batch order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import crmlab
from crmlab.engines.summary import fill_summary, prepare, to_summary


def _rows(n: int, ids: np.ndarray, holdout: bool) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = pd.DataFrame(
        {
            "customer_id": ids,
            "frequency": rng.integers(0, 9, n).astype(float),
            "recency": rng.random(n) * 50,
            "T": 50 + rng.random(n) * 20,
            "monetary_value": rng.gamma(2.0, 20.0, n),
            "first_day": rng.integers(18_000, 19_000, n),
        }
    )
    if holdout:
        rows["frequency_holdout"] = rng.integers(0, 4, n).astype(float)
        rows["duration_holdout"] = 26.0
    return rows


def _batches(rows: pd.DataFrame, size: int) -> list[pa.RecordBatch]:
    table = pa.Table.from_pandas(rows, preserve_index=False)
    return table.to_batches(max_chunksize=size)


@pytest.mark.parametrize("holdout", [False, True])
@pytest.mark.parametrize("size", [1, 7, 1000])
def test_integer_ids_sorted_here_equal_the_sorted_frame(holdout, size):
    n = 503
    ids = np.random.default_rng(3).permutation(np.arange(10, 10 + 3 * n, 3))
    rows = _rows(n, ids, holdout)
    attrs = {"customers": n, "time_unit": "W"}
    want = to_summary(rows.sort_values("customer_id").reset_index(drop=True), attrs, holdout)
    got = fill_summary(iter(_batches(rows, size)), n, attrs, holdout, sort=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == attrs


def test_text_ids_arrive_sorted_and_keep_their_dtype():
    n = 40
    ids = np.array(sorted(f"C{i:03d}" for i in range(n)), dtype=object)
    rows = _rows(n, ids, False)
    want = to_summary(rows.copy(), {}, False)
    got = fill_summary(iter(_batches(rows, 6)), n, {}, False)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_a_count_that_differs_from_the_rows_is_an_error():
    rows = _rows(10, np.arange(10), False)
    with pytest.raises(RuntimeError, match="5 of the 20"):
        fill_summary(iter(_batches(rows.head(5), 3)), 20, {}, False)
    with pytest.raises(RuntimeError, match="more than the 4"):
        fill_summary(iter(_batches(rows, 3)), 4, {}, False)
    with pytest.raises(RuntimeError, match="numeric customer ids"):
        fill_summary(
            iter(_batches(_rows(3, np.array(["b", "a", "c"]), False), 2)), 3, {}, False, sort=True
        )


def test_duckdb_plan_sorts_integer_ids_itself_and_equals_pandas(tmp_path):
    rng = np.random.default_rng(11)
    n = 4000
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 900, n) * 7919 % 100_003,
            "date": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 500, n), "D"),
            "amount": np.round(rng.gamma(2.0, 15.0, n), 2),
        }
    )
    path = tmp_path / "log.parquet"
    log.to_parquet(path, index=False)
    window = {"calibration_end": "2021-12-31", "observation_end": "2022-05-15"}
    with prepare(str(path), threads=2, **window) as plan:
        assert plan.sort_ids
        got = plan.summary(size=64)
    want = crmlab.rfm_summary(log, **window)
    pd.testing.assert_frame_equal(
        got, want, check_dtype=False, check_exact=False, rtol=1e-12, check_freq=False
    )
