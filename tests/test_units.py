"""crmlab.units and crmlab.costs: one home for time units and costs."""

import pytest

from crmlab import costs, units
from crmlab.errors import DataError


def test_days_and_periods():
    assert units.days_per("W") == 7.0
    assert units.days_per("y") == 365.25
    assert units.periods_per_year("M") == pytest.approx(12.0)
    assert units.periods_per_year("W") == pytest.approx(365.25 / 7)
    assert units.convert(2, "Y", "W") == pytest.approx(2 * 365.25 / 7)


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [("3Y", "W", 3 * 365.25 / 7), ("26W", "W", 26.0), ("90D", "W", 90 / 7), (13, "W", 13.0)],
)
def test_parse_duration(text, unit, expected):
    assert units.parse_duration(text, unit) == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["0Y", "-3W", "three years", "3X", float("inf")])
def test_parse_duration_refuses(bad):
    with pytest.raises(DataError, match="duration"):
        units.parse_duration(bad, "W")


def test_unknown_unit_names_choices():
    with pytest.raises(DataError, match="'W' \\(weeks\\)"):
        units.days_per(["W"])


def test_rate_per_period_compounds():
    weekly = units.rate_per_period(0.10, "W")
    assert (1 + weekly) ** (365.25 / 7) == pytest.approx(1.10)
    assert units.rate_per_period(0.0, "D") == 0.0
    for bad in (-0.1, 1.0, 10, "0.1", True):
        with pytest.raises(DataError, match="discount rate"):
            units.rate_per_period(bad, "W")


def test_cost_model_per_period_round_trip():
    model = costs.CostModel.per_period(0.3, 2.0, 0.25, "W")
    assert model.cost_per_customer_year == pytest.approx(0.25 * 365.25 / 7)
    assert model.cost_per_customer("W") == pytest.approx(0.25)
    assert "30%" in model.describe()["gross margin"]


@pytest.mark.parametrize(
    "kwargs",
    [{"margin": 1.5}, {"margin": float("nan")}, {"cost_per_order": -1}, {"margin": "0.3"}],
)
def test_cost_model_refuses(kwargs):
    with pytest.raises(DataError, match="parameter"):
        costs.CostModel(**kwargs)
