"""Fit times of the research models: covariates, GGompertz/NBD, beta-discrete-Weibull.

    .venv/bin/python benchmarks/bench_models.py            # CDNOW sample and 100k customers
    .venv/bin/python benchmarks/bench_models.py --quick    # 20k simulated customers

lifetimes has none of these models (no covariates, no GGompertz/NBD, no BdW), so there is
no peer ratio; each time is printed beside crmlab's own Pareto/NBD fit on the same data
(ratio = model / Pareto/NBD). Times are the best of ``--repeat`` calls.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import crmlab
from crmlab import simulate
from crmlab.models import BGNBD, BetaDiscreteWeibull, GGompertzNBD, ParetoNBD


def best_of(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def datasets(n: int) -> dict[str, pd.DataFrame]:
    tx = crmlab.load_dataset("cdnow_sample")
    cdnow = crmlab.rfm_summary(tx, calibration_end="1997-09-30", time_unit="W")
    first = tx.sort_values("date").groupby("customer_id")["amount"].first()
    cdnow["big_first"] = (first.reindex(cdnow.index) > first.median()).astype(float).to_numpy()
    rng = np.random.default_rng(1)
    cov = pd.DataFrame({"vip": (rng.random(n) < 0.3).astype(float)})
    sim = simulate.retailer(
        n, covariates=cov, effects={"purchase": {"vip": 0.5}, "dropout": {"vip": -0.3}}, seed=2
    )
    summary = crmlab.rfm_summary(
        sim.transactions, calibration_end=sim.params["observation_end"], time_unit="W"
    ).join(sim.truth[["vip"]])
    return {
        "CDNOW sample (2,357)": cdnow,
        f"simulated ({n:,})": summary.rename(columns={"vip": "big_first"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    rows = []
    warnings.simplefilter("ignore")
    for label, data in datasets(n).items():
        base = best_of(lambda data=data: ParetoNBD().fit(data), args.repeat)
        tasks = {
            "Pareto/NBD": lambda data=data: ParetoNBD().fit(data),
            "Pareto/NBD + 1 covariate": lambda data=data: ParetoNBD().fit(
                data, covariates=["big_first"]
            ),
            "BG/NBD + 1 covariate": lambda data=data: BGNBD().fit(data, covariates=["big_first"]),
            "GGompertz/NBD": lambda data=data: GGompertzNBD().fit(data, strict=False),
        }
        for name, call in tasks.items():
            seconds = base if name == "Pareto/NBD" else best_of(call, args.repeat)
            peer = "benchmarks/run.py" if name == "Pareto/NBD" else "none (lifetimes lacks it)"
            rows.append((label, name, seconds, seconds / base, peer))
    cohorts = crmlab.load_dataset("retention_cohorts")
    seconds = best_of(lambda: BetaDiscreteWeibull().fit(cohorts["high_end"][:8]), 5)
    rows.append(("retention cohort (1,000)", "BdW", seconds, float("nan"), "none"))
    table = pd.DataFrame(rows, columns=["data", "model", "seconds", "/ Pareto/NBD", "peer"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
