"""GGompertz/NBD (Bemmaor & Glady 2012): their Table 2 on CDNOW and brute-force checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import gammaln

import crmlab
from crmlab.models import ParetoNBD
from crmlab.models.ggompertz import GGompertzNBD
from crmlab.models.nbd import _patterns


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    tx = crmlab.load_dataset("cdnow_sample")
    return crmlab.rfm_summary(tx, calibration_end="1997-09-30", time_unit="W")


def test_bemmaor_glady_table_2_on_cdnow(summary):
    # Table 2: r = 0.553, alpha = 10.578, b = 0.0002, s = 0.603, beta = 0.0026, LL = -9594.98.
    # The likelihood is flat along b -> 0 with beta / b fixed (the Pareto/NBD limit): the
    # unconstrained maximum lies there, with the published r, alpha and log-likelihood ...
    with pytest.warns(UserWarning, match="Pareto/NBD limit"):
        free = GGompertzNBD().fit(summary)
    assert free.params[["r", "alpha"]].round(3).to_dict() == {"r": 0.553, "alpha": 10.578}
    assert round(free.loglik, 2) == -9594.98
    pareto = ParetoNBD().fit(summary)
    assert free.extra["pareto_limit"]["beta_over_b"] == pytest.approx(
        pareto.params["beta"], rel=1e-3
    )
    # ... and holding beta at its printed value gives the printed b (and s to 0.0005)
    held = GGompertzNBD().fit(summary, fixed={"beta": 0.0026})
    assert held.params.round(3)[["r", "alpha"]].to_dict() == {"r": 0.553, "alpha": 10.578}
    assert round(held.params["b"], 4) == 0.0002
    assert held.params["s"] == pytest.approx(0.603, abs=0.001)
    assert round(held.loglik, 2) == -9594.98
    assert held.k == 4 and held.bse["beta"] == 0


POINT = {"r": 0.6, "alpha": 9.0, "b": 0.03, "s": 0.8, "beta": 2.0}
PATTERNS = [(0, 0.0, 30.0), (3, 12.5, 40.0), (7, 39.0, 39.0), (1, 0.5, 70.0)]


def _brute(x, tx, T, r, alpha, b, s, beta):
    def surv(t):
        return (beta / (beta + np.expm1(b * t))) ** s

    def dens(t):
        return b * s * beta**s * np.exp(b * t) / (beta + np.expm1(b * t)) ** (s + 1)

    head = np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha))
    alive = (alpha + T) ** -(r + x) * surv(T)
    dead, _ = integrate.quad(lambda t: (alpha + t) ** -(r + x) * dens(t), tx, T, epsrel=1e-12)
    return np.log(head * (alive + dead)), alive / (alive + dead), surv


def test_likelihood_p_alive_and_expectations_match_quadrature():
    frame = pd.DataFrame(PATTERNS, columns=["frequency", "recency", "T"])
    model = GGompertzNBD()
    values = list(POINT.values())
    ll = model._loglik(np.log(values), _patterns(frame))
    brute = [_brute(*row, *values) for row in PATTERNS]
    assert ll == pytest.approx(sum(b[0] for b in brute), rel=1e-10)
    res = model.fit(pd.concat([frame] * 3), strict=False).with_params(values)
    np.testing.assert_allclose(res.probability_alive(frame), [b[1] for b in brute], rtol=1e-8)
    # E[X(T, T+t)] = P(alive) (r+x)/(alpha+T) int_0^t S(T+u)/S(T) du
    t = 26.0
    expected = []
    for (x, _, T), (_, alive, surv) in zip(PATTERNS, brute, strict=True):
        integral, _ = integrate.quad(
            lambda u, T=T, surv=surv: surv(T + u) / surv(T), 0, t, epsrel=1e-12
        )
        expected.append(alive * (POINT["r"] + x) / (POINT["alpha"] + T) * integral)
    np.testing.assert_allclose(res.expected_purchases(t, frame), expected, rtol=1e-8)
    unconditional, _ = integrate.quad(lambda u: brute[0][2](u), 0, t)
    assert float(res.expected_purchases(t)) == pytest.approx(
        POINT["r"] / POINT["alpha"] * unconditional, rel=1e-8
    )


def test_gradient_and_the_pareto_nbd_limit(summary):
    model = GGompertzNBD()
    p = _patterns(summary)
    theta = np.log(list(POINT.values()))
    value, grad = model._loglik(theta, p, grad=True)
    h = 1e-6
    numeric = [
        (model._loglik(theta + h * e, p) - model._loglik(theta - h * e, p)) / (2 * h)
        for e in np.eye(5)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5)
    # b -> 0 with beta = b * beta_pareto is the Pareto/NBD
    b = 1e-7
    limit = model.loglik([0.55, 10.58, b, 0.61, b * 11.67], summary)
    assert limit == pytest.approx(ParetoNBD().loglik([0.55, 10.58, 0.61, 11.67], summary), abs=1e-3)
