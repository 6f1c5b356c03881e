"""Score every customer where the data are: P(alive), expected purchases, spend and CLV.

The summary is streamed out of the engine in Arrow record batches; each batch is
scored with the fitted model's public prediction methods
(:meth:`probability_alive`, :meth:`expected_purchases`, :meth:`clv` of a BG/NBD,
MBG/NBD or Pareto/NBD result; :meth:`expected_spend` of a Gamma-Gamma result) and
written at once, to a Parquet file or a DuckDB table. No more than one batch of
customers is ever held in pandas; the scores of a customer depend only on that
customer's row and the fitted parameters, so batches are independent.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError

#: output columns besides the summary's
SCORES = ("p_alive", "expected_purchases", "expected_spend", "clv")


def check_model(
    model: Any,
    spend: Any = None,
    discount_rate: float | None = None,
    annual_discount_rate: float | None = None,
) -> None:
    """Refuse what cannot score, before any data are read: a fit without the prediction
    methods, a spend model without ``expected_spend``, a missing or double discount rate."""
    from crmlab.models.base import discount_per_period

    needed = ("probability_alive", "expected_purchases", "clv")
    missing = [m for m in needed if not hasattr(model, m)]
    if missing:
        raise DataError(
            f"{type(model).__name__} cannot score customers (no {', '.join(missing)}); pass a "
            "fitted BG/NBD, MBG/NBD or Pareto/NBD result, e.g. BGNBD().fit(patterns)."
        )
    if spend is not None and not hasattr(spend, "expected_spend"):
        raise DataError(
            f"spend must be a fitted Gamma-Gamma result (with expected_spend); got "
            f"{type(spend).__name__}."
        )
    discount_per_period(discount_rate, annual_discount_rate, None, model.time_unit)


def score_frame(
    frame: pd.DataFrame,
    model: Any,
    *,
    spend: Any = None,
    period: float,
    horizon: float | str,
    margin: float = 1.0,
    discount_rate: float | None = None,
    annual_discount_rate: float | None = None,
) -> pd.DataFrame:
    """The scores of the customers of one summary batch (index: customer id).

    ``expected_purchases`` covers ``period`` time units after each customer's T;
    ``expected_spend`` is the Gamma-Gamma's E[M | x, m_x] (NaN without a spend
    model), repeat buyers whose repeat purchases were worth nothing getting the
    population mean as in the fit (:func:`crmlab.models.customer_value.spend_inputs`);
    ``clv`` is ``model.clv(frame, spend=expected_spend or 1, ...)``: discounted
    margin over ``horizon`` (purchases when there is no spend model and margin 1).
    """
    from crmlab.models.customer_value import spend_inputs

    out = pd.DataFrame(index=frame.index)
    out["p_alive"] = model.probability_alive(frame).to_numpy()
    out["expected_purchases"] = np.asarray(model.expected_purchases(period, frame), dtype=float)
    if spend is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # infinite means are counted in the summary
            expected = spend.expected_spend(spend_inputs(frame)[0])
        out["expected_spend"] = expected.to_numpy()
    else:
        expected = None
        out["expected_spend"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["clv"] = model.clv(
            frame,
            spend=expected if expected is not None else 1.0,
            margin=margin,
            discount_rate=discount_rate,
            annual_discount_rate=annual_discount_rate,
            horizon=horizon,
        ).to_numpy()
    return out


def scored_batches(batches: Iterator[pd.DataFrame], model: Any, **options: Any) -> Iterator[Any]:
    """Arrow record batches of the summary columns and :data:`SCORES`, batch by batch."""
    import pyarrow as pa

    for frame in batches:
        scores = score_frame(frame, model, **options)
        table = pd.concat([frame.drop(columns=["first_purchase"], errors="ignore"), scores], axis=1)
        table["first_purchase"] = frame["first_purchase"]
        yield pa.RecordBatch.from_pandas(table.reset_index(), preserve_index=False)


def plan_of(source: Any, summary_options: dict[str, Any]) -> tuple[Any, bool]:
    """The :class:`~crmlab.engines.summary.Plan` to score: ``source`` itself when it is an
    open plan (then no summary option may be given: it is summarised already), else one
    prepared from ``source``; and whether it was given (the caller leaves it open)."""
    from crmlab.engines.summary import Plan, prepare

    if isinstance(source, Plan):
        if summary_options:
            raise DataError(
                f"an open plan is already summarised; drop {', '.join(sorted(summary_options))}."
            )
        return source, True
    return prepare(source, **summary_options), False


def score(
    source: Any,
    model: Any,
    *,
    out: str,
    table: str | None = None,
    spend: Any = None,
    period: float | None = None,
    horizon: float | str = 52.0,
    margin: float = 1.0,
    discount_rate: float | None = None,
    annual_discount_rate: float | None = None,
    batch_size: int = 1 << 18,
    **summary_options: Any,
) -> dict[str, Any]:
    """Summarise ``source`` in its engine and write every customer's scores to ``out``.

    Parameters
    ----------
    source
        Anything :func:`crmlab.rfm_summary` reads besides a pandas frame (a Parquet
        glob, a DuckDB file with ``table=``/``query=`` in ``summary_options`` ...), or an
        open :class:`~crmlab.engines.summary.Plan` (validated once, left open).
    model
        A fitted BG/NBD, MBG/NBD or Pareto/NBD result (e.g. fitted on
        ``rfm_summary(source, patterns=True)``), in the time unit of the summary.
    out : str
        A Parquet file, or a DuckDB database (``scores.duckdb``) whose ``table`` is
        created or replaced.
    spend
        A fitted Gamma-Gamma result for ``expected_spend`` and the spend in CLV.
    period : float, optional
        Length of the expected-purchases window (time units; default: ``horizon``).
    horizon, margin, discount_rate, annual_discount_rate
        As :meth:`clv` of the model.
    batch_size : int
        Customers per batch (memory grows with it, not with the customers).
    **summary_options
        Column map, window and reader options of :func:`crmlab.rfm_summary`.

    Returns
    -------
    dict
        ``rows`` written, ``out``, ``table``, ``engine``, ``seconds`` and the summary's
        ``attrs`` (``data_report``, ``excluded``, ...).
    """
    from contextlib import nullcontext

    from crmlab.engines.duckdb import write_batches
    from crmlab.models.base import check_horizon

    check_model(model, spend, discount_rate, annual_discount_rate)
    length = check_horizon(horizon, model)
    started = time.perf_counter()
    options = {
        "spend": spend,
        "period": length if period is None else float(period),
        "horizon": horizon,
        "margin": margin,
        "discount_rate": discount_rate,
        "annual_discount_rate": annual_discount_rate,
    }
    if "patterns" in summary_options:
        raise DataError("score works on customers, not patterns: drop patterns=.")
    plan, given = plan_of(source, summary_options)
    with nullcontext(plan) if given else plan:
        if plan.attrs["time_unit"] != getattr(model, "time_unit", plan.attrs["time_unit"]):
            raise DataError(
                f"the model was fitted in time unit {model.time_unit!r} but the summary is in "
                f"{plan.attrs['time_unit']!r}; pass time_unit={model.time_unit!r}."
            )
        rows = write_batches(scored_batches(plan.batches(batch_size), model, **options), out, table)
        attrs = dict(plan.attrs)
    return {
        "rows": rows,
        "out": out,
        "table": table,
        "engine": attrs["engine"],
        "seconds": time.perf_counter() - started,
        "attrs": attrs,
    }
