"""Runs one benchmark task with a peer library inside its own virtual environment.

Called by ``benchmarks/run.py`` as ``<peer venv>/bin/python peer_worker.py '<json task>'``;
prints one JSON line: ``{"seconds": ..., ...}``. Standalone on purpose: the peers need
older numpy/pandas than crmlab, so crmlab is not importable here.

Tasks (``task["kind"]``): ``simulate`` (lifetimes' Pareto/NBD generator, ``n`` customers),
``summary`` (transactions Parquet -> frequency/recency/T),
``fit`` (summary Parquet -> parameters; pymc-marketing also with ``task["covariates"]``,
time-invariant covariate columns on both the purchase and the dropout process),
``predict`` (summary Parquet + parameters -> P(alive) and expected purchases), each for
``task["peer"]`` = ``lifetimes`` or ``pymc``; and ``sbg`` (pymc-marketing's cohort
``ShiftedBetaGeoModel`` on survivor counts ``task["alive"]``, expanded to one row per
customer as it requires). Fits report wall-clock ``seconds`` and ``cpu_seconds`` (CPU time
of this process and its children: the library's own work, whatever the load).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (pytensor compiles C code in
    child processes the first time a model is built; that is part of the fit's cost)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def simulate(task: dict) -> dict:
    from lifetimes.generate_data import pareto_nbd_model

    start = time.perf_counter()
    out = pareto_nbd_model(78.0, 0.55, 10.58, 0.61, 11.67, size=task["n"])
    return {"seconds": time.perf_counter() - start, "customers": len(out)}


def summary(task: dict) -> dict:
    tx = pd.read_parquet(task["path"])
    end = pd.Timestamp(task["calibration_end"])
    if task["peer"] == "lifetimes":
        from lifetimes.utils import summary_data_from_transaction_data as peer_summary
    else:
        from pymc_marketing.clv.utils import rfm_summary as peer_summary
    start = time.perf_counter()
    out = peer_summary(tx, "customer_id", "date", "amount", observation_period_end=end)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "customers": len(out), "repeats": int(out["frequency"].sum())}


LIFETIMES = {"bg_nbd": "BetaGeoFitter", "pareto_nbd": "ParetoNBDFitter"}
PYMC = {"bg_nbd": "BetaGeoModel", "pareto_nbd": "ParetoNBDModel", "gamma_gamma": "GammaGammaModel"}
NAMES = {
    "bg_nbd": ["r", "alpha", "a", "b"],
    "pareto_nbd": ["r", "alpha", "s", "beta"],
    "gamma_gamma": ["p", "q", "v"],
}


def _pymc_data(data: pd.DataFrame) -> pd.DataFrame:
    return data.reset_index(drop=True).assign(customer_id=np.arange(len(data)))


COVARIATE_NAMES = {
    "pareto_nbd": (
        ["r", "alpha_scale", "s", "beta_scale"],
        ["purchase_coefficient", "dropout_coefficient"],
    ),
    "bg_nbd": (
        ["r", "alpha_scale", "a_scale", "b_scale"],
        ["purchase_coefficient_alpha", "dropout_coefficient_a", "dropout_coefficient_b"],
    ),
}


def _posterior_values(post, base: list[str], coefficients: list[str]) -> list[float]:
    """Point estimates in the order crmlab names them: base parameters, then each
    coefficient group with one value per covariate."""
    values = [float(post[k].values.ravel()[0]) for k in base]
    for group in coefficients:
        values.extend(float(v) for v in post[group].values.reshape(-1))
    return values


def fit(task: dict) -> dict:
    data = pd.read_parquet(task["path"])
    model = task["model"]
    covariates = list(task.get("covariates") or [])
    if model == "gamma_gamma":
        data = data[data["frequency"] > 0]
    if task["peer"] == "lifetimes":
        import lifetimes
    else:
        from pymc_marketing import clv
    start, start_cpu = time.perf_counter(), cpu_seconds()
    if task["peer"] == "lifetimes":
        if covariates:
            raise SystemExit("lifetimes has no covariates")
        if model == "gamma_gamma":
            fitter = lifetimes.GammaGammaFitter().fit(data["frequency"], data["monetary_value"])
        else:
            fitter = getattr(lifetimes, LIFETIMES[model])()
            fitter.fit(data["frequency"], data["recency"], data["T"])
        params = [float(fitter.params_[k]) for k in NAMES[model]]
    else:
        cls = getattr(clv, PYMC[model])
        columns = (
            ["frequency", "monetary_value"]
            if model == "gamma_gamma"
            else ["frequency", "recency", "T"]
        )
        config = (
            {"purchase_covariate_cols": covariates, "dropout_covariate_cols": covariates}
            if covariates
            else None
        )
        fitted = cls(data=_pymc_data(data[columns + covariates]), model_config=config)
        fitted.fit(method="map", progressbar=False)
        post = fitted.idata.posterior
        if covariates:
            params = _posterior_values(post, *COVARIATE_NAMES[model])
        else:
            params = [float(post[k].values.ravel()[0]) for k in NAMES[model]]
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": cpu_seconds() - start_cpu,
        "params": params,
    }


def sbg(task: dict) -> dict:
    """pymc-marketing's sBG (MAP, default priors) on one cohort's survivor counts.

    ``alive[t]`` customers are active at the start of period t + 1 (``alive[0]`` is the
    cohort). A customer lost between ``alive[t-1]`` and ``alive[t]`` churned in period t
    (``recency = t``); the ``alive[-1]`` still active are censored at ``T = len(alive)``
    (pymc-marketing's data: recency = T for active customers, churn period >= T).
    """
    from pymc_marketing import clv

    alive = np.asarray(task["alive"], dtype=int)
    periods = len(alive)
    lost = -np.diff(alive)
    recency = np.concatenate([np.repeat(np.arange(1, periods), lost), [periods] * alive[-1]])
    data = pd.DataFrame(
        {
            "customer_id": np.arange(len(recency)),
            "recency": recency,
            "T": periods,
            "cohort": "cohort",
        }
    )
    start, start_cpu = time.perf_counter(), cpu_seconds()
    fitted = clv.ShiftedBetaGeoModel(data=data)
    fitted.fit(method="map", progressbar=False)
    post = fitted.idata.posterior
    params = [float(post[k].values.ravel()[0]) for k in ("alpha", "beta")]
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": cpu_seconds() - start_cpu,
        "params": params,
        "rows": len(data),
    }


def predict(task: dict) -> dict:
    data = pd.read_parquet(task["path"])
    model, params, t = task["model"], task["params"], task["t"]
    x, tx, T = data["frequency"], data["recency"], data["T"]
    if task["peer"] == "lifetimes":
        import lifetimes
    else:
        import arviz as az
        import xarray as xr
        from pymc_marketing import clv
    start = time.perf_counter()
    if task["peer"] == "lifetimes":
        fitter = getattr(lifetimes, LIFETIMES[model])()
        fitter.params_ = pd.Series(dict(zip(NAMES[model], params, strict=True)))
        alive = fitter.conditional_probability_alive(x, tx, T)
        expected = fitter.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    else:
        fitted = getattr(clv, PYMC[model])(data=_pymc_data(data[["frequency", "recency", "T"]]))
        fitted.build_model()
        posterior = xr.Dataset(
            {k: (("chain", "draw"), [[v]]) for k, v in zip(NAMES[model], params, strict=True)}
        )
        fitted.idata = az.InferenceData(posterior=posterior)
        alive = fitted.expected_probability_alive().values.ravel()
        expected = fitted.expected_purchases(future_t=t).values.ravel()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "mean_alive": float(np.mean(alive)),
        "sum_expected": float(np.sum(expected)),
    }


if __name__ == "__main__":
    task = json.loads(sys.argv[1])
    kinds = {"simulate": simulate, "summary": summary, "fit": fit, "predict": predict, "sbg": sbg}
    result = kinds[task["kind"]](task)
    print(json.dumps(result))
