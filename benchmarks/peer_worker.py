"""Runs one benchmark task with a peer library inside its own virtual environment.

Called by ``benchmarks/run.py`` as ``<peer venv>/bin/python peer_worker.py '<json task>'``;
prints one JSON line: ``{"seconds": ..., ...}``. Standalone on purpose: the peers need
older numpy/pandas than crmlab, so crmlab is not importable here.

Tasks (``task["kind"]``): ``simulate`` (lifetimes' Pareto/NBD generator, ``n`` customers),
``summary`` (transactions Parquet -> frequency/recency/T),
``fit`` (summary Parquet -> parameters), ``predict`` (summary Parquet + parameters ->
P(alive) and expected purchases), each for ``task["peer"]`` = ``lifetimes`` or ``pymc``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)


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


def fit(task: dict) -> dict:
    data = pd.read_parquet(task["path"])
    model = task["model"]
    if model == "gamma_gamma":
        data = data[data["frequency"] > 0]
    if task["peer"] == "lifetimes":
        import lifetimes
    else:
        from pymc_marketing import clv
    start = time.perf_counter()
    if task["peer"] == "lifetimes":
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
        fitted = cls(data=_pymc_data(data[columns]))
        fitted.fit(method="map", progressbar=False)
        post = fitted.idata.posterior
        params = [float(post[k].values.ravel()[0]) for k in NAMES[model]]
    return {"seconds": time.perf_counter() - start, "params": params}


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
    kinds = {"simulate": simulate, "summary": summary, "fit": fit, "predict": predict}
    result = kinds[task["kind"]](task)
    print(json.dumps(result))
