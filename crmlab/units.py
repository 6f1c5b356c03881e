"""Time units: one home for how long a day, week, month, quarter and year are.

Every crmlab module that converts between calendar time and model time uses these
constants, so a "week" or a "year" means the same thing in the summary, the models,
the simulators, the cost model and the studies:

========  ======================  ======================
unit      days                    periods per year
========  ======================  ======================
``D``     1                       365.25
``W``     7                       365.25 / 7 = 52.18
``M``     365.25 / 12 = 30.44     12
``Q``     365.25 / 4 = 91.31      4
``Y``     365.25                  1
========  ======================  ======================

A year is the mean Gregorian-Julian year of 365.25 days.
"""

from __future__ import annotations

import re

from crmlab.errors import DataError

DAYS_PER_YEAR = 365.25
DAYS_PER_UNIT: dict[str, float] = {
    "D": 1.0,
    "W": 7.0,
    "M": DAYS_PER_YEAR / 12,
    "Q": DAYS_PER_YEAR / 4,
    "Y": DAYS_PER_YEAR,
}
UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([DWMQY])\s*$", re.IGNORECASE)


def check_unit(unit: object, allowed: tuple[str, ...] = tuple(DAYS_PER_UNIT)) -> str:
    """``unit`` as one of ``allowed`` (``"W"``), or a :class:`DataError` naming the choices."""
    if not isinstance(unit, str) or unit.upper() not in allowed:
        names = ", ".join(f"'{u}' ({UNIT_NAMES[u]})" for u in allowed)
        raise DataError(f"time unit {unit!r} is not known; use one of {names}.")
    return unit.upper()


def days_per(unit: str) -> float:
    """Days in one ``unit`` (``"W"`` -> 7.0)."""
    return DAYS_PER_UNIT[check_unit(unit)]


def periods_per_year(unit: str) -> float:
    """How many ``unit`` periods make a year (``"W"`` -> 52.18)."""
    return DAYS_PER_YEAR / days_per(unit)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """``value`` periods of ``from_unit`` in periods of ``to_unit`` (2 ``"Y"`` -> 104.4 ``"W"``)."""
    return value * days_per(from_unit) / days_per(to_unit)


def parse_duration(duration: str | float | int, unit: str) -> float:
    """A calendar duration such as ``"3Y"``, ``"26W"`` or ``"90D"`` in periods of ``unit``.

    A bare number is taken to be in ``unit`` already. Raises :class:`DataError` for
    anything else and for durations that are not positive.
    """
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        value, given = float(duration), check_unit(unit)
    else:
        match = _DURATION.match(str(duration))
        if match is None:
            raise DataError(
                f"duration {duration!r} is not understood; give a number and a unit, "
                "e.g. '3Y' (years), '6M' (months), '26W' (weeks) or '90D' (days)."
            )
        value, given = float(match.group(1)), match.group(2).upper()
    if not value > 0 or value == float("inf"):
        raise DataError(f"duration {duration!r} must be positive and finite.")
    return convert(value, given, unit)


def rate_per_period(annual_rate: float, unit: str) -> float:
    """The discount rate per period of ``unit`` equivalent to ``annual_rate`` a year.

    Compounding, not division: :math:`d_u = (1 + d)^{1/n} - 1` with ``n`` periods of
    ``unit`` per year, so 10% a year is 0.183% a week (not 0.192%).
    """
    if not isinstance(annual_rate, int | float) or isinstance(annual_rate, bool):
        raise DataError(f"discount rate {annual_rate!r} must be a number, e.g. 0.10 for 10%.")
    if not 0.0 <= annual_rate < 1.0:
        raise DataError(
            f"annual discount rate {annual_rate!r} is outside [0, 1); give it as a fraction "
            "a year, e.g. 0.10 for 10% (0 means no discounting)."
        )
    return (1.0 + annual_rate) ** (1.0 / periods_per_year(unit)) - 1.0
