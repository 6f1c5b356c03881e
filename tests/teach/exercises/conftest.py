"""Fixtures of the exercise tests: each notebook's namespace, built once per test session
(running a notebook's cells takes up to a minute), and the messages a check shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from teach.exercises.machinery import build_namespace

from crmlab import teach
from crmlab.teach import core

HERE = Path(__file__).parent


def pytest_configure(config):
    config.addinivalue_line("markers", "xdist_group(name): run the group on one xdist worker")


@pytest.hookimpl(tryfirst=True)  # before xdist's, which reads the marks
def pytest_collection_modifyitems(items):
    """Keep each notebook's tests on one xdist worker (``--dist loadgroup``), so that its
    namespace is built once. pytest 9.2 with pytest-xdist 3.8 ignores the groups
    (pytest-dev/pytest-xdist#1386): the tests then spread as before, each worker building
    the namespaces it needs."""
    for item in items:
        if item.path.is_relative_to(HERE):
            number = _notebook_of(item)
            if number is not None:
                item.add_marker(pytest.mark.xdist_group(f"notebook {number}"))


def _notebook_of(item) -> str | None:
    """The notebook a test of this folder runs on: its exercise's, its ``number`` or its
    module's ``NOTEBOOK``."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "exercise" in params:
        return params["exercise"].notebook
    if "number" in params:
        return params["number"]
    return getattr(item.module, "NOTEBOOK", None)


@pytest.fixture(scope="session")
def namespaces(tmp_path_factory) -> Callable[[str], dict]:
    """``namespaces("01")``: notebook 01's namespace, built on first use and kept."""
    built: dict[str, dict] = {}

    def get(number: str) -> dict:
        if number not in built:
            built[number] = build_namespace(number, tmp_path_factory.mktemp(f"exports{number}"))
        return built[number]

    return get


@pytest.fixture(scope="module")
def ns(request, namespaces) -> dict:
    """The namespace of the notebook the test module names in ``NOTEBOOK``."""
    return namespaces(request.module.NOTEBOOK)


@pytest.fixture
def shown(monkeypatch) -> list:
    """The ``(markdown, display kwargs)`` of every message ``teach.check`` shows; no
    solutions, and the graded hints start again."""
    out: list = []
    monkeypatch.setattr(core, "display", lambda obj, **kw: out.append((obj.data, kw)))
    monkeypatch.delenv(teach.SOLUTIONS_ENV, raising=False)
    teach.reset()
    yield out
    teach.reset()
