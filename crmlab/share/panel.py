"""Purchase-panel measures of brand performance (Ehrenberg).

A panel here is one row per purchase occasion with a household and the brand
bought, as in the bundled ``yogurt``, ``cracker``, ``catsup``, ``ketchup`` and
``tuna`` panels (``crmlab.load_dataset``). Each row counts as ONE unit of the
category: the panels record which brand was chosen on an occasion, not how much
was bought, and they carry no dates, so every measure covers the whole panel
period. Every household in such a panel bought the category at least once, so
"penetration" is measured among category buyers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.errors import DataError


def _check_panel(panel: pd.DataFrame, household: str, brand: str) -> pd.DataFrame:
    if not isinstance(panel, pd.DataFrame):
        raise DataError(f"panel must be a DataFrame, got {type(panel).__name__}")
    missing = [c for c in (household, brand) if c not in panel.columns]
    if missing:
        raise DataError(
            f"the panel has no column {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, map(str, panel.columns)))}. Pass household=/brand= "
            "with your column names."
        )
    if len(panel) == 0:
        raise DataError("the panel has no rows; pass one row per purchase occasion")
    for column in (household, brand):
        bad = panel[column].isna().to_numpy()
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"column {column!r} has {int(bad.sum())} missing value(s), first at row "
                f"{panel.index[first]!r}; drop or fill those purchase occasions first"
            )
    return panel


def purchase_counts(
    panel: pd.DataFrame, *, household: str = "household_id", brand: str = "brand"
) -> pd.DataFrame:
    """Household x brand table of purchase occasions (one unit per occasion).

    Parameters
    ----------
    panel : DataFrame
        One row per purchase occasion with columns ``household`` and ``brand``.
    household, brand : str
        Column names.

    Returns
    -------
    DataFrame
        Index: household; columns: every brand (all categories of a categorical
        ``brand`` column, so a brand nobody bought appears with zeros); values:
        number of purchase occasions.

    Raises
    ------
    DataError
        Missing columns or values, or fewer than two brands (shares of a one-brand
        category are all 1 and tell nothing).
    """
    _check_panel(panel, household, brand)
    brands = panel[brand]
    if isinstance(brands.dtype, pd.CategoricalDtype):
        categories = list(brands.cat.categories)
    else:
        categories = sorted(pd.unique(brands).tolist(), key=str)
    if len(categories) < 2:
        raise DataError(
            f"column {brand!r} has {len(categories)} brand(s) ({categories!r}); share measures "
            "need a category of at least two brands"
        )
    codes = pd.Categorical(brands, categories=categories)
    households, hh_codes = np.unique(panel[household].to_numpy(), return_inverse=True)
    counts = np.zeros((len(households), len(categories)), dtype=np.int64)
    np.add.at(counts, (hh_codes, codes.codes), 1)
    return pd.DataFrame(
        counts,
        index=pd.Index(households, name=household),
        columns=pd.Index(categories, name=brand),
    )


def share_of_category_requirements(
    panel: pd.DataFrame, *, household: str = "household_id", brand: str = "brand"
) -> pd.DataFrame:
    """Share of category requirements (SCR) per household and brand.

    ``scr = brand purchases of the household / category purchases of the household``
    (purchase occasions, one unit each).

    Returns
    -------
    DataFrame
        One row per household x brand (all brands, so each household's shares sum to 1):
        ``household``, ``brand``, ``brand_purchases``, ``category_purchases``, ``scr``,
        ``first_choice`` (True for the household's most-bought brand; ties all True).
    """
    counts = purchase_counts(panel, household=household, brand=brand)
    total = counts.sum(axis=1).to_numpy()
    values = counts.to_numpy()
    long = pd.DataFrame(
        {
            household: np.repeat(counts.index.to_numpy(), counts.shape[1]),
            brand: pd.Categorical(
                np.tile(counts.columns.to_numpy(), counts.shape[0]),
                categories=list(counts.columns),
            ),
            "brand_purchases": values.ravel(),
            "category_purchases": np.repeat(total, counts.shape[1]),
        }
    )
    long["scr"] = long["brand_purchases"] / long["category_purchases"]
    top = values.max(axis=1, keepdims=True)
    long["first_choice"] = ((values == top) & (values > 0)).ravel()
    return long


def brand_performance(
    panel: pd.DataFrame, *, household: str = "household_id", brand: str = "brand"
) -> pd.DataFrame:
    """Ehrenberg's brand performance table from a purchase panel.

    For brand j with buyers B_j (households that bought j at least once), N
    households (all category buyers), brand volume V_j and category volume of
    j's buyers C_j:

    - ``market_share`` = V_j / sum_k V_k
    - ``penetration`` = |B_j| / N (among category buyers)
    - ``purchase_frequency`` = V_j / |B_j| (purchases of j per buyer of j)
    - ``category_frequency`` = C_j / |B_j| (category purchases per buyer of j)
    - ``scr`` = V_j / C_j (share of category requirements of j's buyers)
    - ``sole_buyers`` = share of B_j who bought only j
    - ``once_only`` = share of B_j who bought j exactly once

    A brand nobody bought has penetration 0 and NaN per-buyer measures.
    Ehrenberg, Uncles & Goodhardt (2004), "Understanding brand performance
    measures", Journal of Business Research 57, 1307-1325.
    """
    counts = purchase_counts(panel, household=household, brand=brand)
    values = counts.to_numpy().astype(float)
    total = values.sum(axis=1, keepdims=True)
    bought = values > 0
    buyers = bought.sum(axis=0)
    volume = values.sum(axis=0)
    category_of_buyers = (bought * total).sum(axis=0)
    sole = (bought & (values == total)).sum(axis=0)
    once = (values == 1).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_buyer = np.where(buyers > 0, volume / np.maximum(buyers, 1), np.nan)
        table = pd.DataFrame(
            {
                "market_share": volume / volume.sum(),
                "buyers": buyers,
                "penetration": buyers / len(counts),
                "purchase_frequency": per_buyer,
                "category_frequency": np.where(
                    buyers > 0, category_of_buyers / np.maximum(buyers, 1), np.nan
                ),
                "scr": np.where(buyers > 0, volume / np.maximum(category_of_buyers, 1), np.nan),
                "sole_buyers": np.where(buyers > 0, sole / np.maximum(buyers, 1), np.nan),
                "once_only": np.where(buyers > 0, once / np.maximum(buyers, 1), np.nan),
            },
            index=counts.columns,
        )
    return table


def duplication_table(
    panel: pd.DataFrame, *, household: str = "household_id", brand: str = "brand"
) -> pd.DataFrame:
    """Duplication of purchase: of the buyers of the row brand, the share who also bought
    the column brand (diagonal 1; a row brand nobody bought gives NaN).

    Ehrenberg's duplication-of-purchase law says row values are roughly proportional
    to the column brand's penetration.
    """
    counts = purchase_counts(panel, household=household, brand=brand)
    bought = (counts.to_numpy() > 0).astype(float)
    both = bought.T @ bought
    buyers = np.diag(both)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = both / np.where(buyers > 0, buyers, np.nan)[:, None]
    return pd.DataFrame(share, index=counts.columns, columns=counts.columns)


def parfitt_collins(
    panel: pd.DataFrame, *, household: str = "household_id", brand: str = "brand"
) -> pd.DataFrame:
    """Parfitt-Collins decomposition of market share.

    ``market share = penetration share x SCR x buying-level index`` with

    - penetration share = brand buyers / category buyers,
    - SCR = brand volume / category volume of the brand's buyers,
    - buying-level index = (category volume per brand buyer) / (category volume per
      category buyer).

    The product is exactly V_j / V (Parfitt & Collins 1968, "Use of consumer panels
    for brand-share prediction", Journal of Marketing Research 5, 131-145); the
    column ``product`` is computed from the three factors and ``difference`` from
    the directly counted share, so the identity is checked, not assumed.
    """
    perf = brand_performance(panel, household=household, brand=brand)
    counts = purchase_counts(panel, household=household, brand=brand)
    category_per_buyer = counts.to_numpy().sum() / len(counts)
    out = pd.DataFrame(
        {
            "market_share": perf["market_share"],
            "penetration_share": perf["penetration"],
            "scr": perf["scr"],
            "buying_level_index": perf["category_frequency"] / category_per_buyer,
        }
    )
    product = out["penetration_share"] * out["scr"] * out["buying_level_index"]
    out["product"] = product.where(perf["buyers"] > 0, 0.0)
    out["difference"] = out["product"] - out["market_share"]
    return out
