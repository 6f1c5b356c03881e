"""Service relationships, defection surveys, CRM source systems and multi-category shoppers.

No public data set records, per customer, how many employees served them and
whether they stayed, why former customers left, or which records of a firm's
sales, service and marketing systems belong to the same person. These
simulators build such data with the truth stored beside it, so the notebooks can
show that the methods recover it. Every function takes a ``seed`` and is
vectorised (no loop over customers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.errors import DataError
from crmlab.simulate.result import SimulatedData, check_count

SEGMENTS = ("consumer", "small business", "corporate")
REASONS = ("service", "product", "price", "other")


def _positive(name: str, value: int) -> None:
    check_count(name, value)


def relationships(
    n_customers: int,
    *,
    threshold: int | None = 4,
    slope: float = 0.5,
    intercept: float = -1.2,
    n_staff: int = 60,
    seed: int = 0,
) -> SimulatedData:
    """Customers with relationship breadth, cross-buying, value and retention.

    Truth: the number of distinct employees :math:`x` is 1 + Poisson with a mean that
    grows by segment (consumer 1.2, small business 2.5, corporate 4.0), capped at 10.
    Retention follows

    .. math:: \\operatorname{logit} P(\\text{stay}) = a + b\\,\\min(x, \\text{threshold})

    (or :math:`a + b x` / 2 when ``threshold`` is None: a steady, smaller effect).
    Retained customers cross-buy more (product lines = 1 + Binomial(5, 0.15 + 0.25
    retained)), and value per year is Gamma(2, 60 x lines).

    Returns
    -------
    SimulatedData
        ``tables["customers"]``: ``customer_id, segment, n_employees, n_lines, value,
        retained``; ``tables["contacts"]``: ``customer_id, employee_id, contact``
        (a contact log in which each customer meets exactly ``n_employees`` distinct
        employees); ``params``: the truth.
    """
    _positive("n_customers", n_customers)
    if threshold is not None and threshold < 1:
        raise DataError(f"threshold must be None or >= 1, got {threshold}.")
    rng = np.random.default_rng(seed)
    seg = rng.choice(len(SEGMENTS), size=n_customers, p=[0.5, 0.3, 0.2])
    mean = np.array([1.2, 2.5, 4.0])[seg]
    x = np.minimum(1 + rng.poisson(mean), 10)
    if threshold is None:
        eta = intercept + slope / 2 * x
    else:
        eta = intercept + slope * np.minimum(x, threshold)
    retained = (rng.random(n_customers) < 1 / (1 + np.exp(-eta))).astype(int)
    lines = 1 + rng.binomial(5, 0.15 + 0.25 * retained)
    value = rng.gamma(2.0, 60.0 * lines)
    ids = np.arange(1, n_customers + 1)
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "segment": np.array(SEGMENTS)[seg],
            "n_employees": x,
            "n_lines": lines,
            "value": value.round(2),
            "retained": retained,
        }
    )
    # contact log: customer i meets employees start_i, start_i + 1, ... (mod n_staff)
    extra = rng.poisson(2, n_customers)
    n_contacts = x + extra
    cust = np.repeat(np.arange(n_customers), n_contacts)
    pos = np.arange(len(cust)) - np.repeat(np.cumsum(n_contacts) - n_contacts, n_contacts)
    slot = np.where(pos < x[cust], pos, rng.integers(0, x[cust]))
    start = rng.integers(0, n_staff, n_customers)
    contacts = pd.DataFrame(
        {
            "customer_id": ids[cust],
            "employee_id": [f"E{e:03d}" for e in (start[cust] + slot) % n_staff],
            "contact": pos + 1,
        }
    )
    params = {
        "threshold": threshold,
        "intercept": intercept,
        "slope": slope if threshold is not None else slope / 2,
        "mean_employees_by_segment": dict(zip(SEGMENTS, [1.2, 2.5, 4.0], strict=True)),
        "cross_buying": "lines = 1 + Binomial(5, 0.15 + 0.25 * retained)",
        "value": "Gamma(shape 2, scale 60 * lines)",
    }
    return SimulatedData({"customers": customers, "contacts": contacts}, None, params)


def defection_survey(
    n: int,
    *,
    shares: dict[str, dict[str, float]] | None = None,
    segment_weights: dict[str, float] | None = None,
    seed: int = 0,
) -> SimulatedData:
    """Former customers with their segment and main reason for leaving.

    Truth (default): consumers leave for service 50%, product 15%, price 25%, other
    10%; small businesses 58/17/15/10; corporate customers 65/20/5/10. Overall about
    55% name the service: less than the often-quoted two in three.

    Returns
    -------
    SimulatedData
        ``tables["survey"]``: ``respondent, segment, reason``; ``params``: the shares.
    """
    _positive("n", n)
    shares = shares or {
        "consumer": {"service": 0.50, "product": 0.15, "price": 0.25, "other": 0.10},
        "small business": {"service": 0.58, "product": 0.17, "price": 0.15, "other": 0.10},
        "corporate": {"service": 0.65, "product": 0.20, "price": 0.05, "other": 0.10},
    }
    weights = segment_weights or {"consumer": 0.55, "small business": 0.30, "corporate": 0.15}
    segs = list(shares)
    if set(weights) != set(segs):
        raise DataError(f"segment_weights names {sorted(weights)}, shares {sorted(segs)}.")
    reasons = list(next(iter(shares.values())))
    p = np.array([[shares[s][r] for r in reasons] for s in segs])
    if not np.allclose(p.sum(axis=1), 1):
        raise DataError("each segment's shares must sum to 1.")
    w = np.array([weights[s] for s in segs])
    rng = np.random.default_rng(seed)
    seg = rng.choice(len(segs), size=n, p=w / w.sum())
    u = rng.random(n)
    reason = (u[:, None] > np.cumsum(p[seg], axis=1)).sum(axis=1)
    survey = pd.DataFrame(
        {
            "respondent": np.arange(1, n + 1),
            "segment": np.array(segs)[seg],
            "reason": np.array(reasons)[np.minimum(reason, len(reasons) - 1)],
        }
    )
    overall = {r: float((w / w.sum()) @ p[:, j]) for j, r in enumerate(reasons)}
    return SimulatedData({"survey": survey}, None, {"shares": shares, "overall": overall})


def _typed_email(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    """E-mails as people and agents type them: random upper case and stray spaces."""
    u = rng.random(len(emails))
    out = np.where(u < 0.2, np.char.upper(emails.astype(str)), emails.astype(str))
    out = np.where((u > 0.2) & (u < 0.3), np.char.capitalize(out), out)
    pad = rng.random(len(emails)) < 0.15
    return np.where(pad, np.char.add(np.char.add(" ", out), " "), out)


def _typed_phone(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """Ten-digit numbers in five common formats, with and without country code."""
    d = pd.Series(digits.astype(str))
    area, mid, end = d.str[:3], d.str[3:6], d.str[6:]
    forms = np.stack(
        [
            d.to_numpy(),
            ("(" + area + ") " + mid + "-" + end).to_numpy(),
            (area + "." + mid + "." + end).to_numpy(),
            ("+1 " + area + " " + mid + " " + end).to_numpy(),
            ("001" + d).to_numpy(),
        ]
    )
    return forms[rng.integers(0, 5, len(d)), np.arange(len(d))]


def crm_sources(n_customers: int, *, seed: int = 0) -> SimulatedData:
    """Sales transactions, service tickets and marketing contacts of the same people.

    Truth: ``n_customers`` persons, each with an e-mail, a ten-digit phone and a shop
    customer number. 80% buy (1 + Poisson(2) sales); 6% of buyers registered twice in
    the shop (a second customer number, same e-mail); 35% of persons raise tickets
    (1 + Poisson(0.5)), 40% of tickets without a customer number, 50% without a phone;
    60% of persons are in the marketing tool (5% of them twice), which has no customer
    number, an e-mail for 70% and a phone for 60% (2% of entries "n/a"). 3% of persons
    share their phone with another person (a household line), which misleads the phone
    rule. E-mails appear in mixed case with stray spaces; phones in five formats.

    Returns
    -------
    SimulatedData
        ``tables``: ``sales`` (``order_id, customer_id, email, phone, amount, date``),
        ``service`` (``ticket_id, customer_id, email, phone, opened``), ``marketing``
        (``contact_id, name, email, phone, opt_in``); ``truth``: ``source, record_id,
        person_id`` for every record in the order sales, service, marketing; ``params``:
        ``persons``, ``persons_in_no_system`` (people no system recorded: about
        0.2 x 0.65 x 0.4 = 5.2% of them), ``registered_twice``, ``shared_phones``.
    """
    _positive("n_customers", n_customers)
    rng = np.random.default_rng(seed)
    n = n_customers
    pid = np.arange(n)
    first = np.array(["ann", "bob", "cy", "dee", "eve", "finn", "gus", "hana", "ivo", "jo"])
    last = np.array(["lee", "diaz", "kim", "smith", "nowak", "rossi", "okafor", "berg"])
    fi, la = rng.integers(0, len(first), n), rng.integers(0, len(last), n)
    names = np.char.add(
        np.char.add(np.char.capitalize(first[fi]), " "), np.char.capitalize(last[la])
    )
    email = np.char.add(
        np.char.add(np.char.add(first[fi], "."), last[la]),
        np.char.add(pid.astype(str), "@mail.example"),
    )
    phone = (5550000000 + rng.choice(9_999_999, n, replace=False)).astype(str)
    share = rng.random(n) < 0.03
    phone = np.where(share, np.roll(phone, 1), phone)
    cid = np.char.add("C", (100000 + pid).astype(str))
    dup = rng.random(n) < 0.06
    cid2 = np.char.add("C", (500000 + pid).astype(str))

    buyer = pid[rng.random(n) < 0.8]
    n_sales = 1 + rng.poisson(2, len(buyer))
    s_p = np.repeat(buyer, n_sales)
    second = dup[s_p] & (rng.random(len(s_p)) < 0.5)
    sales = pd.DataFrame(
        {
            "order_id": np.char.add("S", np.arange(1, len(s_p) + 1).astype(str)),
            "customer_id": np.where(second, cid2[s_p], cid[s_p]),
            "email": _typed_email(rng, email[s_p]),
            "phone": _typed_phone(rng, phone[s_p]),
            "amount": rng.gamma(2.0, 30.0, len(s_p)).round(2),
            "date": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 365, len(s_p)), "D"),
        }
    )
    tick = pid[rng.random(n) < 0.35]
    t_p = np.repeat(tick, 1 + rng.poisson(0.5, len(tick)))
    t_id = np.where(rng.random(len(t_p)) < 0.4, None, cid[t_p]).astype(object)
    t_ph = np.where(rng.random(len(t_p)) < 0.5, None, _typed_phone(rng, phone[t_p])).astype(object)
    service = pd.DataFrame(
        {
            "ticket_id": np.char.add("T", np.arange(1, len(t_p) + 1).astype(str)),
            "customer_id": t_id,
            "email": _typed_email(rng, email[t_p]),
            "phone": t_ph,
            "opened": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 365, len(t_p)), "D"),
        }
    )
    mk = pid[rng.random(n) < 0.6]
    m_p = np.r_[mk, mk[rng.random(len(mk)) < 0.05]]
    has_e = rng.random(len(m_p)) < 0.7
    has_ph = rng.random(len(m_p)) < 0.6
    junk = rng.random(len(m_p)) < 0.02
    m_email = np.where(has_e, _typed_email(rng, email[m_p]), None).astype(object)
    m_email[junk] = "n/a"
    marketing = pd.DataFrame(
        {
            "contact_id": np.char.add("M", np.arange(1, len(m_p) + 1).astype(str)),
            "name": names[m_p],
            "email": m_email,
            "phone": np.where(has_ph, _typed_phone(rng, phone[m_p]), None).astype(object),
            "opt_in": rng.random(len(m_p)) < 0.5,
        }
    )
    truth = pd.DataFrame(
        {
            "source": ["sales"] * len(s_p) + ["service"] * len(t_p) + ["marketing"] * len(m_p),
            "record_id": np.r_[sales["order_id"], service["ticket_id"], marketing["contact_id"]],
            "person_id": np.r_[s_p, t_p, m_p],
        }
    )
    known = np.unique(np.r_[s_p, t_p, m_p])
    params = {
        "persons": n,
        # people who bought nothing, raised no ticket and are not in the marketing tool:
        # no system has a record of them, so matching can never find them
        "persons_in_no_system": int(n - len(known)),
        "registered_twice": int(dup[buyer].sum()),
        "shared_phones": int(share.sum()),
    }
    return SimulatedData(
        {"sales": sales, "service": service, "marketing": marketing}, truth, params
    )


CATEGORY_GROUPS = {
    "home": ["cookware", "tableware", "bedding", "lighting", "bath", "storage"],
    "garden": ["plants", "garden tools", "barbecue", "outdoor furniture", "seeds", "pots"],
    "kids": ["toys", "kids clothing", "children's books", "baby care", "games", "school"],
    "sport": ["running", "cycling", "camping", "fitness", "swimming", "team sports"],
}


def shoppers(
    n_customers: int,
    *,
    groups: dict[str, list[str]] | None = None,
    loyalty: float = 0.75,
    mean_purchases: float = 8.0,
    seed: int = 0,
) -> SimulatedData:
    """Multi-category purchase histories with taste clusters (known truth).

    Each shopper has one favourite group of related categories (group weights 40,
    30, 20, 10%). Each purchase comes from the favourite group with probability
    ``loyalty``, otherwise from any category; within a group the first category is
    the most popular (weights falling linearly, 6:5:...:1). Purchases per shopper: 1 + Poisson
    (``mean_purchases`` - 1), dates uniform over two years.

    Returns
    -------
    SimulatedData
        ``tables["transactions"]``: ``customer_id, date, category, amount``;
        ``truth``: ``customer_id, favourite_group``.
    """
    _positive("n_customers", n_customers)
    if not 0 <= loyalty <= 1:
        raise DataError(f"loyalty must be in [0, 1], got {loyalty}.")
    groups = groups or CATEGORY_GROUPS
    names = list(groups)
    width = max(len(v) for v in groups.values())
    if any(len(v) != width for v in groups.values()):
        raise DataError("every category group needs the same number of categories.")
    table = np.array([groups[g] for g in names])
    rng = np.random.default_rng(seed)
    gw = np.linspace(len(names), 1, len(names))
    fav = rng.choice(len(names), n_customers, p=gw / gw.sum())
    k = 1 + rng.poisson(mean_purchases - 1, n_customers)
    cust = np.repeat(np.arange(n_customers), k)
    own = rng.random(len(cust)) < loyalty
    g = np.where(own, fav[cust], rng.integers(0, len(names), len(cust)))
    cw = np.linspace(width, 1, width)
    c = rng.choice(width, len(cust), p=cw / cw.sum())
    days = rng.integers(0, 730, len(cust))
    trans = pd.DataFrame(
        {
            "customer_id": cust + 1,
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D"),
            "category": table[g, c],
            "amount": rng.gamma(2.0, 25.0, len(cust)).round(2),
        }
    ).sort_values(["customer_id", "date"], kind="stable", ignore_index=True)
    truth = pd.DataFrame(
        {"customer_id": np.arange(1, n_customers + 1), "favourite_group": np.array(names)[fav]}
    )
    return SimulatedData(
        {"transactions": trans},
        truth,
        {"groups": groups, "loyalty": loyalty, "mean_purchases": mean_purchases},
    )
