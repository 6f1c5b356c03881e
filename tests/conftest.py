"""Shared fixtures: a seeded random generator and the bundled data."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import crmlab

SEED = 20261122


@pytest.fixture(scope="session", autouse=True)
def spark_log(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Spark sessions of the test run log their JVM console in the run's temporary
    folder (crmlab.engines.spark.jvm_log), not one file per process in /tmp."""
    if "CRMLAB_SPARK_LOG" not in os.environ:
        os.environ["CRMLAB_SPARK_LOG"] = str(tmp_path_factory.mktemp("spark") / "jvm.log")


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
