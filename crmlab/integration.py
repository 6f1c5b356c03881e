"""The single customer view: link records from several systems into persons.

Real systems export customers in different shapes and with different keys: the
shop knows a customer number, the service desk an e-mail typed by an agent, the
marketing tool a phone number from a form. :func:`single_customer_view` stacks
the sources, normalises the keys, applies explicit deterministic matching rules in
order, and merges every chain of matches into one person with union-find
(connected components of the record graph). Nothing is dropped: a record without
any usable key becomes a person of its own and is counted in the report.

Each source is a DataFrame with (names configurable per call):

``record_id``
    Unique within the source (e.g. transaction or ticket number).
``customer_id``
    The shared customer number where the system has it (may be missing).
``email``, ``phone``, ``name``
    As typed (may be missing, mixed case, padded, in any phone format).
``amount`` (optional)
    Money, summed into the customer table (e.g. sales).

References
----------
Fellegi, I. P. & Sunter, A. B. (1969). A theory for record linkage. *JASA* 64, 1183-1210
(deterministic rules are the special case with certain agreement patterns).
Tarjan, R. E. (1975). Efficiency of a good but not linear set union algorithm. *JACM* 22.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from crmlab.checks import show
from crmlab.errors import DataError, require_columns
from crmlab.reports import Finding

RULES = {
    "customer_id": "same customer number (after trimming)",
    "email": "same e-mail after trimming and lower-casing",
    "phone": "same phone number: digits only, last 10 digits (drops country code +1/001)",
}
KEY_COLUMNS = ("customer_id", "email", "phone", "name")


def normalise_email(values: pd.Series) -> pd.Series:
    """Trim and lower-case e-mail addresses; anything without exactly one ``@`` and a
    dot in the domain becomes missing.

    ``"  Ann.Lee@Mail.COM "`` -> ``"ann.lee@mail.com"``; ``"n/a"`` -> ``<NA>``.
    """
    s = values.astype("string").str.strip().str.lower()
    ok = s.str.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", na=False)
    return s.where(ok, pd.NA)


def normalise_phone(values: pd.Series, *, digits: int = 10) -> pd.Series:
    """Keep digits only and the last ``digits`` of them (drops a country prefix);
    fewer than ``digits`` digits, or all digits equal (``0000000000``), becomes missing.

    ``"+1 (555) 010-2030"``, ``"555.010.2030"`` and ``"0015550102030"`` -> ``"5550102030"``.
    """
    if digits < 5:
        raise DataError(f"digits must be at least 5, got {digits}.")
    s = values.astype("string").str.replace(r"\D", "", regex=True)
    s = s.where(s.str.len() >= digits, pd.NA).str[-digits:]
    junk = s.str.fullmatch(r"(\d)\1*", na=False)
    return s.where(~junk, pd.NA)


def normalise_id(values: pd.Series) -> pd.Series:
    """Trim customer numbers; empty strings become missing; ``12.0`` becomes ``"12"``."""
    s = values.astype("string").str.strip()
    s = s.str.replace(r"\.0$", "", regex=True)
    return s.where(s.str.len() > 0, pd.NA)


def stack_sources(
    sources: dict[str, pd.DataFrame], *, columns: dict[str, dict[str, str]] | None = None
) -> pd.DataFrame:
    """Stack the source tables into one frame of records with normalised keys.

    Parameters
    ----------
    sources : dict of str -> DataFrame
        Source name -> its table (at least a ``record_id`` column and one key column).
    columns : dict, optional
        Per source, a map from crmlab's names (``record_id, customer_id, email, phone,
        name, amount``) to the source's own column names.

    Returns
    -------
    DataFrame
        One row per input record: ``source, record_id, customer_id, email, phone, name,
        amount`` (raw values, missing where the source lacks the column), and
        ``id_key, email_key, phone_key`` (normalised; missing when unusable).
    """
    if not isinstance(sources, dict) or not sources:
        raise DataError("sources must be a non-empty dict of name -> DataFrame.")
    columns = columns or {}
    parts = []
    for name, frame in sources.items():
        cmap = {"record_id": "record_id", **{c: c for c in KEY_COLUMNS}, "amount": "amount"}
        cmap.update(columns.get(name, {}))
        require_columns(frame, [cmap["record_id"]], f"source {name!r}")
        present = [k for k in KEY_COLUMNS if cmap[k] in frame.columns]
        if not any(k in present for k in ("customer_id", "email", "phone")):
            raise DataError(
                f"source {name!r} has none of the key columns customer_id, email, phone "
                f"(columns: {list(frame.columns)}); map them with columns={{{name!r}: ...}}."
            )
        rid = frame[cmap["record_id"]]
        if rid.isna().any() or rid.duplicated().any():
            bad = rid.isna() | rid.duplicated()
            first = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"source {name!r} column '{cmap['record_id']}' must be unique and present; "
                f"{int(bad.sum())} rows are missing or repeated, first at row {first}: "
                f"{show(rid.iloc[first])}. Give every exported row its own record id."
            )
        part = pd.DataFrame({"source": name, "record_id": rid.astype(str).to_numpy()})
        for key in (*KEY_COLUMNS, "amount"):
            col = cmap[key]
            part[key] = frame[col].to_numpy() if col in frame.columns else pd.NA
        parts.append(part)
    records = pd.concat(parts, ignore_index=True)
    records["amount"] = pd.to_numeric(records["amount"], errors="coerce")
    records["id_key"] = normalise_id(records["customer_id"])
    records["email_key"] = normalise_email(records["email"])
    records["phone_key"] = normalise_phone(records["phone"])
    return records


@dataclass
class SingleCustomerView:
    """Result of :func:`single_customer_view`.

    Attributes
    ----------
    records : DataFrame
        Every input record with ``person_id`` and ``linked_by`` (the first rule, in
        rule order, under which it shares a key with another record; ``"unmatched"``
        if none).
    customers : DataFrame
        One row per person: ``person_id, n_records, n_<source>`` counts, ``sources``,
        ``customer_id, email, phone, name`` (most frequent normalised value),
        ``n_emails, n_phones, n_customer_ids`` (distinct values merged) and ``amount``.
    rules : DataFrame
        Per rule in order: ``description, records_with_key, records_linked, merges``
        (how many fewer persons after the rule than before it).
    quality : DataFrame
        Per source and in total: records, missing/invalid keys, records without any
        usable key, records linked to another source, duplicates folded.
    conflicts : DataFrame
        Persons whose merged records carry more than one customer number, e-mail or
        phone (a chain of matches, or an over-merge to review).
    """

    records: pd.DataFrame
    customers: pd.DataFrame
    rules: pd.DataFrame
    quality: pd.DataFrame
    conflicts: pd.DataFrame


def _edges(keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Edges from each record to the first record with the same (non-missing) key."""
    idx = np.flatnonzero(keys.notna().to_numpy())
    if len(idx) == 0:
        return np.empty(0, int), np.empty(0, int)
    codes = pd.factorize(keys.iloc[idx])[0]
    first = pd.Series(idx).groupby(codes).transform("first").to_numpy()
    return idx, first


def _components(n: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _mode(frame: pd.DataFrame, col: str) -> pd.Series:
    v = frame[["person_id", col]].dropna()
    if v.empty:
        return pd.Series(dtype="string")
    counts = v.groupby(["person_id", col], observed=True).size().rename("n").reset_index()
    counts = counts.sort_values(["person_id", "n", col], ascending=[True, False, True])
    return counts.drop_duplicates("person_id").set_index("person_id")[col]


def single_customer_view(
    sources: dict[str, pd.DataFrame],
    *,
    rules: tuple[str, ...] = ("customer_id", "email", "phone"),
    columns: dict[str, dict[str, str]] | None = None,
) -> SingleCustomerView:
    """Integrate several source tables into one customer table.

    Rules are applied in the order given; each links records with equal normalised
    values of one key (see :data:`RULES`). Merging is transitive (union-find): if a
    ticket shares an e-mail with a sale and a phone with a marketing contact, all
    three become one person.

    Parameters
    ----------
    sources : dict of str -> DataFrame
        E.g. ``{"sales": ..., "service": ..., "marketing": ...}``.
    rules : tuple of str
        Subset of ``("customer_id", "email", "phone")`` in the order to apply.
    columns : dict, optional
        Per source column-name maps (see :func:`stack_sources`).

    Returns
    -------
    SingleCustomerView
    """
    unknown = [r for r in rules if r not in RULES]
    if unknown or not rules:
        raise DataError(f"rules must be a non-empty subset of {list(RULES)}; got {list(rules)}.")
    records = stack_sources(sources, columns=columns)
    n = len(records)
    key_col = {"customer_id": "id_key", "email": "email_key", "phone": "phone_key"}
    rows, cols = [np.arange(n)], [np.arange(n)]
    linked_by = pd.Series("unmatched", index=records.index, dtype=object)
    before = n
    rule_rows = []
    for rule in rules:
        keys = records[key_col[rule]]
        r, c = _edges(keys)
        shared = keys.notna() & keys.duplicated(keep=False)
        newly = shared & (linked_by == "unmatched")
        linked_by[newly] = rule
        rows.append(r)
        cols.append(c)
        labels = _components(n, np.concatenate(rows), np.concatenate(cols))
        after = int(labels.max()) + 1
        rule_rows.append(
            {
                "rule": rule,
                "description": RULES[rule],
                "records_with_key": int(keys.notna().sum()),
                "records_linked": int(shared.sum()),
                "merges": before - after,
            }
        )
        before = after
    # person ids numbered by first appearance, so they are stable for a given input
    records["person_id"] = pd.factorize(labels)[0]
    records["linked_by"] = linked_by.to_numpy()
    rules_table = pd.DataFrame(rule_rows).set_index("rule")

    g = records.groupby("person_id")
    customers = pd.DataFrame({"n_records": g.size()})
    per_source = pd.crosstab(records["person_id"], records["source"])
    for s in sources:
        customers[f"n_{s}"] = per_source[s] if s in per_source else 0
    present = per_source.gt(0)
    customers["sources"] = present.dot(present.columns + "+").str.rstrip("+")
    for col, key in (("customer_id", "id_key"), ("email", "email_key"), ("phone", "phone_key")):
        customers[col] = _mode(records, key).reindex(customers.index)
    customers["name"] = _mode(records.assign(name=records["name"].astype("string")), "name")
    customers["n_customer_ids"] = g["id_key"].nunique()
    customers["n_emails"] = g["email_key"].nunique()
    customers["n_phones"] = g["phone_key"].nunique()
    customers["amount"] = g["amount"].sum(min_count=1)
    customers.index.name = "person_id"
    customers = customers.reset_index()

    conflicts = customers[
        (customers["n_customer_ids"] > 1)
        | (customers["n_emails"] > 1)
        | (customers["n_phones"] > 1)
    ]
    quality = _quality(records, list(sources))
    return SingleCustomerView(records, customers, rules_table, quality, conflicts)


def _quality(records: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    r = records
    persons_sources = r.groupby("person_id")["source"].nunique()
    cross = r["person_id"].map(persons_sources).gt(1)
    no_key = r[["id_key", "email_key", "phone_key"]].isna().all(axis=1)
    frame = pd.DataFrame(
        {
            "source": r["source"],
            "records": 1,
            "missing_customer_id": r["customer_id"].isna()
            | (r["customer_id"].astype("string").str.strip() == ""),
            "missing_email": r["email"].isna(),
            "invalid_email": r["email"].notna() & r["email_key"].isna(),
            "missing_phone": r["phone"].isna(),
            "invalid_phone": r["phone"].notna() & r["phone_key"].isna(),
            "no_usable_key": no_key,
            "linked_to_other_source": cross,
            "unmatched": r["linked_by"].eq("unmatched"),
        }
    )
    by = frame.groupby("source").sum().reindex(names)
    persons = r.groupby("source")["person_id"].nunique().reindex(names)
    by["persons"] = persons
    by["records_folded"] = by["records"] - persons
    total = by.sum()
    total["persons"] = r["person_id"].nunique()
    total["records_folded"] = total["records"] - total["persons"]
    by.loc["all sources"] = total
    return by.astype(int)


def evaluate_matching(
    predicted: pd.Series | np.ndarray, truth: pd.Series | np.ndarray
) -> pd.Series:
    """Pairwise precision and recall of a record linkage against the known truth.

    A pair of records is *predicted merged* if both have the same predicted person,
    *truly merged* if both belong to the same true person.

    .. math::
        \\text{precision} = \\frac{TP}{\\sum_p \\binom{n_p}{2}},\\quad
        \\text{recall} = \\frac{TP}{\\sum_t \\binom{n_t}{2}},\\quad
        TP = \\sum_{p,t} \\binom{n_{pt}}{2}

    (``n_pt`` records in predicted person p and true person t).

    Parameters
    ----------
    predicted, truth : array-like of equal length
        Person labels per record, in the same record order.

    Returns
    -------
    Series
        ``precision, recall, f1, true_pairs, predicted_pairs, correct_pairs,
        persons_true, persons_predicted, persons_exact`` (true persons recovered
        exactly: all their records and nothing else in one predicted person).
    """
    p = pd.Series(np.asarray(predicted))
    t = pd.Series(np.asarray(truth))
    if len(p) != len(t):
        raise DataError(f"predicted has {len(p)} labels but truth has {len(t)}; align them.")
    if len(p) == 0 or p.isna().any() or t.isna().any():
        raise DataError("predicted and truth need one non-missing label per record.")

    def pairs(counts: pd.Series) -> int:
        c = counts.to_numpy(dtype=np.int64)
        return int((c * (c - 1) // 2).sum())

    cell = pd.DataFrame({"p": p, "t": t}).groupby(["p", "t"]).size()
    tp = pairs(cell)
    pred_pairs = pairs(p.value_counts())
    true_pairs = pairs(t.value_counts())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    joint = cell.reset_index(name="n")
    joint["np"] = joint["p"].map(p.value_counts())
    joint["nt"] = joint["t"].map(t.value_counts())
    exact = int(((joint["n"] == joint["np"]) & (joint["n"] == joint["nt"])).sum())
    return pd.Series(
        {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "true_pairs": true_pairs,
            "predicted_pairs": pred_pairs,
            "correct_pairs": tp,
            "persons_true": int(t.nunique()),
            "persons_predicted": int(p.nunique()),
            "persons_exact": exact,
        }
    )


def persons_by_sources(view: SingleCustomerView) -> pd.DataFrame:
    """Persons counted by the combination of systems that hold records of them.

    A person known to two systems is one person in the single customer view but
    appears in both systems' own person counts, which is why those counts do not add
    up to the total.

    Returns
    -------
    DataFrame
        Indexed by ``sources`` (e.g. ``"sales+service"``): ``n_sources`` and ``persons``,
        most persons first.
    """
    c = view.customers
    out = c.groupby("sources").size().rename("persons").to_frame()
    out.insert(0, "n_sources", out.index.str.count(r"\+") + 1)
    return out.sort_values(["persons", "n_sources"], ascending=[False, True], kind="stable")


def single_view_findings(
    view: SingleCustomerView,
    evaluation: pd.Series | None = None,
    *,
    n_people: int | None = None,
    simulated: bool = False,
) -> list[Finding]:
    """Executive-summary sentences of a single customer view, with the numbers they cite.

    Parameters
    ----------
    view : SingleCustomerView
        From :func:`single_customer_view`.
    evaluation : Series, optional
        From :func:`evaluate_matching` against known identities (simulated data, or a
        hand-checked sample): adds precision, recall and exact recoveries.
    n_people : int, optional
        People the simulation built; with ``evaluation``, the sentence explains why fewer
        true persons have records (people no system recorded).
    simulated : bool
        Whether the sources are simulated (the sentences then say so).

    Returns
    -------
    list of Finding
    """
    records, persons = len(view.records), len(view.customers)
    q = view.quality.loc["all sources"]
    by = persons_by_sources(view)
    numbers = {
        "records": records,
        "sources": int((view.quality.index != "all sources").sum()),
        "persons": persons,
        "rules": len(view.rules),
        "unmatched": int(q["unmatched"]),
        "no_key": int(q["no_usable_key"]),
    }
    where = "In the simulated systems, " if simulated else ""
    findings = [
        Finding(
            where + "{records:,} records from {sources} systems were joined into {persons:,} "
            "persons by {rules} explicit rules (" + ", ".join(view.rules.index) + "); nothing "
            "was dropped: {unmatched:,} records matched nothing and stay persons of their own, "
            "{no_key:,} of them without any usable key.",
            numbers,
            simulated=simulated,
        ),
        Finding(
            ("In the simulated systems, " if simulated else "")
            + "{several:,} persons ({share:.1%}) are known to more than one system, so the "
            "systems' own person counts add up to {summed:,} where there are {persons:,} "
            "persons; {conflicts:,} persons carry more than one customer number, e-mail or "
            "phone and are listed for review.",
            {
                "several": int(by.loc[by["n_sources"] > 1, "persons"].sum()),
                "share": by.loc[by["n_sources"] > 1, "persons"].sum() / persons,
                "summed": int((by["n_sources"] * by["persons"]).sum()),
                "persons": persons,
                "conflicts": len(view.conflicts),
            },
            simulated=simulated,
        ),
    ]
    if evaluation is not None:
        numbers = {
            "precision": evaluation["precision"],
            "recall": evaluation["recall"],
            "exact": int(evaluation["persons_exact"]),
            "true": int(evaluation["persons_true"]),
        }
        text = (
            ("Against the simulated truth, " if simulated else "Against the known identities, ")
            + "{precision:.1%} of the record pairs merged belong to the same person "
            "(precision) and {recall:.1%} of the pairs that belong together were merged "
            "(recall); {exact:,} of {true:,} true persons are recovered exactly"
        )
        if n_people is not None:
            numbers["people"] = n_people
            numbers["absent"] = n_people - int(evaluation["persons_true"])
            text += (
                " (the simulation builds {people:,} people, but {absent:,} of them bought "
                "nothing, raised no ticket and are not in the marketing tool, so no system "
                "has a record of them)"
            )
        findings.append(Finding(text + ".", numbers, simulated=simulated))
    return findings


def record_links(view: SingleCustomerView, truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """Which person each source record was joined into (and, with ``truth``, who it is).

    Parameters
    ----------
    view : SingleCustomerView
        From :func:`single_customer_view`.
    truth : DataFrame, optional
        Known identities: ``source, record_id, person_id`` (e.g. a simulation's truth or
        a hand-checked sample); matched on source and record id, not on row order.

    Returns
    -------
    DataFrame
        ``source, record_id, person_id, linked_by`` [, ``true_person_id``] per record.
    """
    out = view.records[["source", "record_id", "person_id", "linked_by"]].copy()
    if truth is None:
        return out
    require_columns(truth, ["source", "record_id", "person_id"], "truth")
    key = pd.MultiIndex.from_arrays([truth["source"].astype(str), truth["record_id"].astype(str)])
    if key.duplicated().any():
        raise DataError("truth lists a (source, record_id) more than once; give each one person.")
    where = key.get_indexer(pd.MultiIndex.from_frame(out[["source", "record_id"]]))
    if (where < 0).any():
        first = int(np.flatnonzero(where < 0)[0])
        raise DataError(
            f"truth has no person for {int((where < 0).sum())} records, first "
            f"{out['source'].iloc[first]!r} {out['record_id'].iloc[first]!r}; "
            "give every record its true person."
        )
    out["true_person_id"] = truth["person_id"].to_numpy()[where]
    return out


def evaluate_rules(
    sources: dict[str, pd.DataFrame],
    truth: pd.DataFrame,
    *,
    rules: tuple[str, ...] = ("customer_id", "email", "phone"),
    columns: dict[str, dict[str, str]] | None = None,
) -> pd.DataFrame:
    """Matching quality as the rules are added one at a time (first rule, first two, ...).

    Each step runs :func:`single_customer_view` with the first rules and scores it with
    :func:`evaluate_matching` against ``truth`` (``source, record_id, person_id``).

    Returns
    -------
    DataFrame
        One row per step, indexed by the rules joined with " + ", with the columns of
        :func:`evaluate_matching`.
    """
    rows = {}
    for i in range(len(rules)):
        step = tuple(rules[: i + 1])
        links = record_links(single_customer_view(sources, rules=step, columns=columns), truth)
        rows[" + ".join(step)] = evaluate_matching(links["person_id"], links["true_person_id"])
    out = pd.DataFrame(rows).T
    out.index.name = "rules"
    return out


def single_view_client(view: SingleCustomerView, *, simulated: bool = False) -> tuple[list, list]:
    """The single customer view for a client: how many persons the systems' records are,
    how many the separate systems would count, and the persons to review.

    On simulated systems the sentence says so and the only action is to run the same
    joining on the client's own systems; on real data the action is to review the
    persons carrying more than one customer number, e-mail or phone (``view.conflicts``)
    before merging them (listed in ``single_customer_view.csv`` by ``n_customer_ids``,
    ``n_emails``, ``n_phones``).

    Returns
    -------
    (list of Finding, list of Action)
    """
    from crmlab.reports import Action

    records, persons = len(view.records), len(view.customers)
    by = persons_by_sources(view)
    several = int(by.loc[by["n_sources"] > 1, "persons"].sum())
    numbers = {
        "records": records,
        "sources": int((view.quality.index != "all sources").sum()),
        "persons": persons,
        "several": several,
        "share": several / persons if persons else float("nan"),
        "summed": int((by["n_sources"] * by["persons"]).sum()),
        "conflicts": len(view.conflicts),
    }
    where = "In simulated systems (not your data), " if simulated else ""
    client = [
        Finding(
            where + "{records:,} customer records from {sources:,} systems belong to "
            "{persons:,} persons; {several:,} persons ({share:.0%}) appear in more than one "
            "system, so counting each system's customers separately gives {summed:,} "
            "customers; {conflicts:,} persons have more than one customer number, e-mail or "
            "phone.",
            numbers,
            simulated=simulated,
        )
    ]
    if simulated:
        actions = [
            Action(
                "test",
                "Test this on your data: join the records of your sales, service and marketing "
                "systems by customer number, e-mail and phone, and count the persons they hold "
                "before you report customer numbers.",
            )
        ]
    elif numbers["conflicts"]:
        actions = [
            Action(
                "review",
                "Review the {conflicts:,} persons with more than one customer number, e-mail "
                "or phone before merging their records: some may be several people.",
                {"conflicts": numbers["conflicts"]},
                customers=numbers["conflicts"],
                list_file="single_customer_view.csv",
            )
        ]
    else:
        actions = []  # nothing to review
    return client, actions
