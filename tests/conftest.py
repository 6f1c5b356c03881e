"""Shared fixtures: a seeded random generator and the bundled data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab

SEED = 20261122


@pytest.fixture
def rng() -> np.random.Generator:
    """A random generator with a fixed seed, fresh for every test."""
    return np.random.default_rng(SEED)


@pytest.fixture(scope="session")
def cdnow_sample() -> pd.DataFrame:
    return crmlab.load_dataset("cdnow_sample")


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    return crmlab.load_dataset("cdnow")
