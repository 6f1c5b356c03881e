"""Relationship breadth and cross-buying against retention and value.

A customer served by more distinct employees (more "threads" tying them to the
firm) is said to be more likely to stay; a customer who buys more product lines
is said to be worth more and to stay longer (Peppers & Rogers; Reinartz & Kumar
on cross-buying). The functions here take one row per customer:

``n_employees``
    Distinct employees who served the customer (integer >= 0).
``n_lines``
    Distinct product lines bought (integer >= 0).
``value``
    Customer value in money (e.g. annual margin).
``retained``
    1 if the customer stayed, 0 if they left.

Column names are arguments, so a client's table can be used as it is.

References
----------
Reinartz, W. & Kumar, V. (2003). The impact of customer relationship characteristics
on profitable lifetime duration. *Journal of Marketing* 67(1), 77-99.
Peppers, D. & Rogers, M. (1993). *The One to One Future*. Currency/Doubleday.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from crmlab.checks import require_no_missing, show
from crmlab.errors import DataError, require_columns
from crmlab.reports import Finding
from crmlab.stats import wilson_interval


def _check(customers: pd.DataFrame, breadth: str, outcome: str) -> pd.DataFrame:
    require_columns(customers, [breadth, outcome], "customers")
    require_no_missing(customers, [breadth, outcome], "customers")
    y = customers[outcome]
    bad = ~y.isin([0, 1, True, False]).to_numpy()
    if bad.any():
        first = np.flatnonzero(bad)[0]
        raise DataError(
            f"column '{outcome}' must be 0/1; {int(bad.sum())} values are not, first at row "
            f"{show(customers.index[first])}: {show(y.iloc[first])}. Code stayed = 1, left = 0."
        )
    x = pd.to_numeric(customers[breadth], errors="coerce")
    bad = (x.isna() | (x < 0)).to_numpy()
    if bad.any():
        first = np.flatnonzero(bad)[0]
        raise DataError(
            f"column '{breadth}' must be a count >= 0; {int(bad.sum())} values are not, first "
            f"at row {show(customers.index[first])}: {show(customers[breadth].iloc[first])}."
        )
    if y.nunique() < 2:
        raise DataError(
            f"column '{outcome}' has only the value {show(y.iloc[0])}; a retention model needs "
            "customers who stayed and customers who left."
        )
    return pd.DataFrame({"x": x.astype(float), "y": y.astype(float)}, index=customers.index)


def retention_by_level(
    customers: pd.DataFrame,
    *,
    breadth: str = "n_employees",
    outcome: str = "retained",
    value: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Observed retention rate (Wilson interval) and mean value at each level of ``breadth``.

    Parameters
    ----------
    customers : DataFrame
        One row per customer with ``breadth`` (count) and ``outcome`` (0/1).
    breadth : str
        E.g. ``"n_employees"`` or ``"n_lines"``.
    outcome : str
        Retention indicator.
    value : str, optional
        A money column whose mean per level is added as ``mean_value``.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        Indexed by ``breadth``; columns ``customers, retained, retention, lower, upper``
        [, ``mean_value``].
    """
    data = _check(customers, breadth, outcome)
    if value is not None:
        require_columns(customers, [value], "customers")
        require_no_missing(customers, [value], "customers")
        data["v"] = customers[value].astype(float)
    g = data.groupby("x")
    out = pd.DataFrame({"customers": g.size(), "retained": g["y"].sum().astype(int)})
    out.index = out.index.astype(int)
    out.index.name = breadth
    out["retention"] = out["retained"] / out["customers"]
    out["lower"], out["upper"] = wilson_interval(out["retained"], out["customers"], level=level)
    if value is not None:
        out["mean_value"] = g["v"].mean().to_numpy()
    return out


@dataclass
class BreadthFit:
    """A logistic regression of retention on breadth.

    Attributes
    ----------
    kind : str
        ``"linear"`` (logit linear in breadth), ``"dummies"`` (one coefficient per
        level), ``"spline"`` (natural cubic spline) or ``"piecewise"``.
    coefficients : DataFrame
        ``coef, std_err, z, p_value, lower, upper, odds_ratio, odds_ratio_lower,
        odds_ratio_upper`` per term (the odds ratio is :math:`e^{\\text{coef}}`, its
        interval the exponentiated Wald interval).
    curve : DataFrame
        Predicted retention at each breadth level with a confidence band:
        columns ``breadth, retention, lower, upper``.
    loglik : float
        Maximised log-likelihood.
    n_params : int
        Number of estimated coefficients.
    aic : float
        Akaike information criterion.
    result : statsmodels results
        The fitted statsmodels object, for anything else.
    """

    kind: str
    coefficients: pd.DataFrame
    curve: pd.DataFrame
    loglik: float
    n_params: int
    aic: float
    result: object


def _design(x: np.ndarray, kind: str, knot: float, levels: np.ndarray, df: int) -> pd.DataFrame:
    if kind == "linear":
        cols = {"breadth": x}
    elif kind == "piecewise":
        cols = {"breadth": x, f"breadth_above_{knot:g}": np.maximum(x - knot, 0.0)}
    elif kind == "dummies":
        cols = {f"breadth={lv:g}": (x == lv).astype(float) for lv in levels[1:]}
    elif kind == "spline":
        from patsy import build_design_matrices, dmatrix

        spec = dmatrix(f"cr(x, df={df}) - 1", {"x": levels}, return_type="dataframe")
        basis = build_design_matrices([spec.design_info], {"x": x}, return_type="dataframe")[0]
        # drop the first basis column: the intercept carries it (the basis sums to 1)
        return pd.DataFrame(
            basis.iloc[:, 1:].to_numpy(), columns=[f"spline_{i}" for i in range(1, df)]
        )
    else:
        raise DataError(f"kind must be 'linear', 'piecewise', 'dummies' or 'spline', got {kind!r}.")
    return pd.DataFrame(cols)


def fit_retention(
    customers: pd.DataFrame,
    *,
    breadth: str = "n_employees",
    outcome: str = "retained",
    kind: str = "linear",
    knot: float = 4,
    df: int = 4,
    level: float = 0.95,
) -> BreadthFit:
    """Logistic regression of retention on relationship breadth (statsmodels ``Logit``).

    .. math:: \\operatorname{logit} P(\\text{retained}) = \\alpha + f(\\text{breadth})

    with :math:`f` linear (``kind="linear"``), one dummy per observed level
    (``"dummies"``, the most flexible), a natural cubic spline with ``df`` degrees of
    freedom (``"spline"``) or a broken line with a kink at ``knot``
    (``"piecewise"``: :math:`\\beta_1 x + \\beta_2 \\max(x-\\text{knot}, 0)`, so the slope
    above the knot is :math:`\\beta_1+\\beta_2`).

    Parameters
    ----------
    customers : DataFrame
        One row per customer.
    breadth, outcome : str
        Column names (count >= 0, and 0/1).
    kind : str
        Shape of :math:`f`.
    knot : float
        Kink of the piecewise model.
    df : int
        Spline degrees of freedom (>= 3).
    level : float
        Confidence level of intervals and band.

    Returns
    -------
    BreadthFit
    """
    data = _check(customers, breadth, outcome)
    levels = np.sort(data["x"].unique())
    if kind == "spline" and not (3 <= df <= len(levels)):
        raise DataError(
            f"df must be between 3 and the number of distinct breadth levels ({len(levels)}), "
            f"got {df}."
        )
    if kind == "piecewise" and not (levels[0] < knot < levels[-1]):
        raise DataError(
            f"knot {knot} must lie strictly inside the observed breadth range "
            f"[{levels[0]:g}, {levels[-1]:g}]."
        )
    x = data["x"].to_numpy()
    design = sm.add_constant(_design(x, kind, knot, levels, df), has_constant="add")
    model = sm.Logit(data["y"].to_numpy(), design.to_numpy())
    res = model.fit(disp=0, method="newton", maxiter=100)
    if not res.mle_retvals.get("converged", True):
        raise DataError(
            f"the {kind} logit did not converge (perfect separation?); use a coarser kind "
            "or pool sparse breadth levels."
        )
    alpha = 1 - level
    ci = np.asarray(res.conf_int(alpha=alpha))
    names = list(design.columns)
    coef = pd.DataFrame(
        {
            "coef": res.params,
            "std_err": res.bse,
            "z": res.tvalues,
            "p_value": res.pvalues,
            "lower": ci[:, 0],
            "upper": ci[:, 1],
        },
        index=pd.Index(names, name="term"),
    )
    coef["odds_ratio"] = np.exp(coef["coef"])
    coef["odds_ratio_lower"] = np.exp(coef["lower"])
    coef["odds_ratio_upper"] = np.exp(coef["upper"])
    grid = sm.add_constant(_design(levels, kind, knot, levels, df), has_constant="add")
    eta = grid.to_numpy() @ res.params
    se = np.sqrt(np.einsum("ij,jk,ik->i", grid.to_numpy(), res.cov_params(), grid.to_numpy()))
    z = stats.norm.ppf(1 - alpha / 2)
    curve = pd.DataFrame(
        {
            "breadth": levels,
            "retention": 1 / (1 + np.exp(-eta)),
            "lower": 1 / (1 + np.exp(-(eta - z * se))),
            "upper": 1 / (1 + np.exp(-(eta + z * se))),
        }
    )
    k = len(names)
    return BreadthFit(kind, coef, curve, float(res.llf), k, float(2 * k - 2 * res.llf), res)


@dataclass(frozen=True)
class ThresholdTest:
    """Likelihood-ratio test of a change in slope at ``knot``.

    Attributes
    ----------
    knot : float
        Where the slope may change.
    lr_stat : float
        :math:`2(\\ell_\\text{piecewise} - \\ell_\\text{linear})`, chi-square with 1 df
        under "no change".
    p_value : float
        Upper tail of chi-square(1).
    slope_below, slope_above : float
        Log-odds per extra unit of breadth below and above the knot.
    slope_change, slope_change_lower, slope_change_upper : float
        :math:`\\beta_2` with its Wald interval.
    linear, piecewise : BreadthFit
        The two fitted models.
    """

    knot: float
    lr_stat: float
    p_value: float
    slope_below: float
    slope_above: float
    slope_change: float
    slope_change_lower: float
    slope_change_upper: float
    linear: BreadthFit
    piecewise: BreadthFit

    def changes(self, alpha: float = 0.05) -> bool:
        """Whether the slope change is significant at ``alpha``."""
        return self.p_value < alpha


def threshold_test(
    customers: pd.DataFrame,
    *,
    breadth: str = "n_employees",
    outcome: str = "retained",
    knot: float = 4,
    level: float = 0.95,
) -> ThresholdTest:
    """Does the effect of breadth on retention change at ``knot``? (likelihood ratio)

    Compares the linear logit with the piecewise logit
    :math:`\\alpha + \\beta_1 x + \\beta_2\\max(x-\\text{knot},0)`; the models are nested
    (:math:`\\beta_2 = 0`), so :math:`LR = 2(\\ell_1 - \\ell_0) \\sim \\chi^2_1` under no
    change (Wilks, 1938).

    Returns
    -------
    ThresholdTest
    """
    lin = fit_retention(customers, breadth=breadth, outcome=outcome, kind="linear", level=level)
    pw = fit_retention(
        customers, breadth=breadth, outcome=outcome, kind="piecewise", knot=knot, level=level
    )
    lr = max(2 * (pw.loglik - lin.loglik), 0.0)
    b1 = pw.coefficients["coef"].iloc[1]
    b2 = pw.coefficients.iloc[2]
    return ThresholdTest(
        knot=knot,
        lr_stat=float(lr),
        p_value=float(stats.chi2.sf(lr, 1)),
        slope_below=float(b1),
        slope_above=float(b1 + b2["coef"]),
        slope_change=float(b2["coef"]),
        slope_change_lower=float(b2["lower"]),
        slope_change_upper=float(b2["upper"]),
        linear=lin,
        piecewise=pw,
    )


def cross_buying(
    customers: pd.DataFrame,
    *,
    lines: str = "n_lines",
    value: str = "value",
    outcome: str = "retained",
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Value and retention by the number of product lines a customer buys.

    Parameters
    ----------
    customers : DataFrame
        One row per customer with ``lines`` (count), ``value`` (money), ``outcome`` (0/1).

    Returns
    -------
    by_lines : DataFrame
        Indexed by ``lines``: ``customers, retained, retention, lower, upper, mean_value,
        median_value, share_of_customers, share_of_value``.
    association : DataFrame
        One row per outcome (``value``, ``retention``): Spearman rank correlation with
        ``lines``, its p-value, and the slope (value per extra line by OLS; log-odds per
        extra line by logit) with its confidence interval.
    """
    table = retention_by_level(customers, breadth=lines, outcome=outcome, value=value, level=level)
    v = customers[value].astype(float)
    x = customers[lines].astype(float)
    table["median_value"] = v.groupby(x).median().to_numpy()
    table["share_of_customers"] = table["customers"] / table["customers"].sum()
    total = v.sum()
    table["share_of_value"] = v.groupby(x).sum().to_numpy() / total if total else np.nan
    rho_v, p_v = stats.spearmanr(x, v)
    rho_r, p_r = stats.spearmanr(x, customers[outcome].astype(float))
    ols = sm.OLS(v.to_numpy(), sm.add_constant(x.to_numpy())).fit()
    ci_ols = np.asarray(ols.conf_int(alpha=1 - level))[1]
    logit = fit_retention(customers, breadth=lines, outcome=outcome, kind="linear", level=level)
    row = logit.coefficients.iloc[1]
    assoc = pd.DataFrame(
        {
            "spearman_rho": [rho_v, rho_r],
            "spearman_p": [p_v, p_r],
            "slope": [ols.params[1], row["coef"]],
            "slope_lower": [ci_ols[0], row["lower"]],
            "slope_upper": [ci_ols[1], row["upper"]],
            "slope_unit": ["money per extra line", "log-odds per extra line"],
        },
        index=pd.Index(["value", "retention"], name="outcome"),
    )
    return table, assoc


def distinct_per_customer(
    log: pd.DataFrame,
    *,
    of: str,
    customer: str = "customer_id",
    customers: pd.Index | pd.Series | None = None,
    name: str | None = None,
) -> pd.Series:
    """Count distinct values of ``of`` per customer in a log (contacts or purchases).

    Use it to build relationship breadth from a contact log (``of="employee_id"``:
    distinct employees who served the customer) or cross-buying from transactions
    (``of="category"``: distinct product lines bought).

    Parameters
    ----------
    log : DataFrame
        One row per contact or purchase, with columns ``customer`` and ``of``.
    of : str
        Column whose distinct values are counted.
    customer : str
        Customer id column.
    customers : Index or Series, optional
        All customers to report; those absent from the log get 0 (so customers with
        no contact are kept, not dropped).
    name : str, optional
        Name of the returned Series (default ``"n_" + of``).

    Returns
    -------
    Series
        Indexed by customer id, integer counts.
    """
    require_columns(log, [customer, of], "log")
    require_no_missing(log, [customer, of], "log")
    out = log.groupby(customer)[of].nunique()
    if customers is not None:
        ids = pd.Index(pd.unique(pd.Series(customers).to_numpy()), name=customer)
        unknown = ~out.index.isin(ids)
        if unknown.any():
            raise DataError(
                f"log has {int(unknown.sum())} customer ids not in `customers`, first "
                f"{out.index[unknown][0]}; pass the full customer list."
            )
        out = out.reindex(ids, fill_value=0)
    return out.astype(int).rename(name or f"n_{of}")


def small_groups(table: pd.DataFrame, *, min_group: int = 50) -> pd.DataFrame:
    """Rows of a per-level table (from :func:`retention_by_level` or :func:`cross_buying`)
    with fewer than ``min_group`` customers, whose rates are too rough to quote alone.

    With n customers a 95% Wilson interval of a rate near 50% is about
    :math:`\\pm 1.96\\sqrt{0.25/n}` wide: \u00b114 points at n = 50, \u00b118 at n = 30.

    Returns
    -------
    DataFrame
        The small rows, with ``half_width`` (half the interval's width) added.
    """
    if min_group < 1:
        raise DataError(f"min_group must be at least 1 customer, got {min_group}.")
    require_columns(table, ["customers", "lower", "upper"], "table")
    out = table[table["customers"] < min_group].copy()
    out["half_width"] = (out["upper"] - out["lower"]) / 2
    return out


def _small_clause(small: pd.DataFrame, unit: str, min_group: int, numbers: dict) -> str:
    """ "9 employees (n = 31) and 10 employees (n = 29)", citing each level and n."""
    parts = []
    for i, (level, row) in enumerate(small.iterrows(), start=1):
        numbers[f"small_level_{i}"] = int(level)
        numbers[f"small_n_{i}"] = int(row["customers"])
        parts.append(f"{{small_level_{i}}} {unit} (n = {{small_n_{i}:,}})")
    numbers["min_group"] = min_group
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def relationship_findings(
    customers: pd.DataFrame,
    *,
    control: pd.DataFrame | None = None,
    breadth: str = "n_employees",
    lines: str = "n_lines",
    value: str = "value",
    outcome: str = "retained",
    knot: float = 4,
    min_group: int = 50,
    level: float = 0.95,
    alpha: float = 0.05,
    simulated: bool = False,
) -> list[Finding]:
    """Executive-summary sentences on relationship breadth and cross-buying.

    The idea tested (the kit's sources): once a customer is served by about ``knot`` or
    more different employees, their attachment moves from the person to the company.
    Attachment is not observed; retention is its proxy, so the sentences speak of
    retention and say so.

    Parameters
    ----------
    customers : DataFrame
        One row per customer (see the module docstring).
    control : DataFrame, optional
        A second population to run the same threshold test on, e.g. one simulated
        *without* a threshold (the test should find nothing there).
    breadth, lines, value, outcome : str
        Column names.
    knot : float
        Where the effect of breadth is said to change.
    min_group : int
        Groups with fewer customers are named as too small to quote on their own, and
        the cross-buying comparison uses the most lines with at least this many.
    level, alpha : float
        Confidence level of intervals and significance level of the tests.
    simulated : bool
        Whether the data are simulated (the sentences then say so, and that the
        effects were built in).

    Returns
    -------
    list of Finding
        The odds ratio per extra employee (with interval); the threshold test as a test
        of the attachment idea; small breadth groups; cross-buying (value ratio and
        retention with intervals, small groups flagged).
    """
    fit = fit_retention(customers, breadth=breadth, outcome=outcome, kind="linear", level=level)
    row = fit.coefficients.loc["breadth"]
    sim = "In the simulated data, each" if simulated else "Each"
    built = "; the simulation builds this effect in" if simulated else ""
    findings = [
        Finding(
            f"{sim} extra employee serving a customer multiplies the odds of staying by "
            "{odds_ratio:.2f} on average over {n:,} customers (95% CI {lower:.2f} to "
            f"{{upper:.2f}}){built}.",
            {
                "odds_ratio": row["odds_ratio"],
                "lower": row["odds_ratio_lower"],
                "upper": row["odds_ratio_upper"],
                "n": len(customers),
            },
            simulated=simulated,
        )
    ]

    test = threshold_test(customers, breadth=breadth, outcome=outcome, knot=knot, level=level)
    numbers = {
        "knot": knot,
        "below": test.slope_below,
        "above": test.slope_above,
        "p_value": test.p_value,
    }
    where = "in the simulated population built with a change there" if simulated else "here"
    found = (
        "the slope of retention changes from {below:.2f} to {above:.2f} log-odds per employee "
        "(likelihood-ratio p = {p_value:.2g})"
        if test.changes(alpha)
        else "the test finds no change in the slope of retention ({below:.2f} below, "
        "{above:.2f} above; likelihood-ratio p = {p_value:.2g})"
    )
    text = (
        "The idea is that from about {knot:g} contacts a customer's attachment moves from the "
        "employee to the company; attachment is not observed, only retention, its proxy: "
        f"{where}, {found}"
    )
    if control is not None:
        ctest = threshold_test(control, breadth=breadth, outcome=outcome, knot=knot, level=level)
        numbers["control_p_value"] = ctest.p_value
        other = "in the population built without one" if simulated else "in the control group"
        text += (
            f", and {other} the test finds "
            + ("one too" if ctest.changes(alpha) else "none")
            + " (p = {control_p_value:.2g})"
        )
    findings.append(Finding(text + ".", numbers, simulated=simulated))

    observed = retention_by_level(customers, breadth=breadth, outcome=outcome, level=level)
    small = small_groups(observed, min_group=min_group)
    if len(small):
        numbers = {"half_width": small["half_width"].max()}
        clause = _small_clause(small, "employees", min_group, numbers)
        findings.append(
            Finding(
                ("In the simulated data, retention" if simulated else "Retention")
                + f" at {clause} rests on fewer than {{min_group:,}} customers per level; "
                "those rates are rough (95% intervals up to \u00b1{half_width:.0%}) and are "
                "not quoted on their own.",
                numbers,
                simulated=simulated,
            )
        )

    by_lines, _ = cross_buying(customers, lines=lines, value=value, outcome=outcome, level=level)
    big = by_lines[by_lines["customers"] >= min_group]
    if len(big) >= 2:
        one, top = big.iloc[0], big.iloc[-1]
        numbers = {
            "top": int(big.index[-1]),
            "n_top": int(top["customers"]),
            "one": int(big.index[0]),
            "n_one": int(one["customers"]),
            "ratio": top["mean_value"] / one["mean_value"],
            "value_top": top["mean_value"],
            "value_one": one["mean_value"],
            "r_top": top["retention"],
            "lo_top": top["lower"],
            "hi_top": top["upper"],
            "r_one": one["retention"],
            "lo_one": one["lower"],
            "hi_one": one["upper"],
            "min_group": min_group,
        }
        text = (
            ("In the simulated data, customers" if simulated else "Customers")
            + " buying {top} product lines (the most lines with at least {min_group:,} "
            "customers; n = {n_top:,}) are worth {ratio:.1f} times as much as those buying "
            "{one} (n = {n_one:,}; mean value ${value_top:,.0f} against ${value_one:,.0f}) and "
            "stay at {r_top:.0%} (95% CI {lo_top:.0%} to {hi_top:.0%}) against {r_one:.0%} "
            "({lo_one:.0%} to {hi_one:.0%})"
        )
        text += (
            "; the simulation makes customers who stay buy more lines, so this association "
            "is built in and shows no lever"
            if simulated
            else "; this is an association: it does not show that selling more lines keeps "
            "customers"
        )
        rest = small_groups(by_lines[by_lines.index > big.index[-1]], min_group=min_group)
        if len(rest):
            text += (
                "; "
                + _small_clause(rest, "lines", min_group, numbers)
                + (" are below that minimum and not compared")
            )
        findings.append(Finding(text + ".", numbers, simulated=simulated))
    return findings


def relationship_client(
    customers: pd.DataFrame,
    *,
    breadth: str = "n_employees",
    outcome: str = "retained",
    knot: float = 4,
    simulated: bool = False,
) -> tuple[list[Finding], list]:
    """Relationship breadth for a client: retention with one employee against ``knot`` or more.

    One plain sentence: the share of customers who stayed among those served by one
    employee and among those served by ``knot`` or more, each with its 95% interval said
    in words (:func:`crmlab.stats.wilson_interval`). On simulated data the sentence says
    the effect was built in, and the only action is to test the idea on the firm's own
    data (nothing is recommended on simulated results); on real data the action is to
    widen the relationships of the customers served by fewer than ``knot`` employees
    (an observed association, not a proven cause, and the action says so).

    Returns
    -------
    (list of Finding, list of Action)
    """
    from crmlab.reports import Action

    data = _check(customers, breadth, outcome)
    x, y = data["x"], data["y"]
    one, wide = x == 1, x >= knot
    if not one.any() or not wide.any():
        raise DataError(
            f"column '{breadth}' has {int(one.sum())} customers served by 1 employee and "
            f"{int(wide.sum())} by {knot:g} or more; both groups are needed to compare them."
        )
    numbers = {"knot": knot, "n_one": int(one.sum()), "n_wide": int(wide.sum())}
    for name, mask in (("one", one), ("wide", wide)):
        lo, hi = wilson_interval(int(y[mask].sum()), int(mask.sum()))
        numbers.update({name: float(y[mask].mean()), f"{name}_lo": float(lo), f"{name}_hi": hi})
    where = "In simulated data (not your customers), " if simulated else ""
    text = (
        where + "{one:.0%} of the {n_one:,} customers served by a single employee stayed "
        "(between {one_lo:.0%} and {one_hi:.0%}), against {wide:.0%} of the {n_wide:,} customers "
        "served by {knot:g} or more employees (between {wide_lo:.0%} and {wide_hi:.0%})"
    )
    text += "; the simulation was built with this effect." if simulated else "."
    client = [Finding(text, numbers, simulated=simulated)]
    if simulated:
        actions = [
            Action(
                "test",
                "Test this on your data: record which employees serve each customer and "
                "whether the customer stays, then compare customers served by a single employee "
                "with those served by {knot:g} or more employees.",
                {"knot": knot},
            )
        ]
    else:
        narrow = int(((x >= 1) & (x < knot)).sum())
        actions = [
            Action(
                "keep",
                "Introduce more colleagues to the {narrow:,} customers served by fewer than "
                "{knot:g} employees, on part of them first: those served by more employees stay "
                "more often, but that is an observed link, not a proven cause.",
                {"narrow": narrow, "knot": knot},
                customers=narrow,
            )
        ]
    return client, actions
