"""The package's set-up: pyproject.toml and environment.yml list the same packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name, where they differ
CONDA_NAMES = {"matplotlib": "matplotlib-base", "duckdb": "python-duckdb"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement)
    assert match, requirement
    return match.group(1).lower(), match.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        project = tomllib.load(fh)["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(_split(r) for r in reqs)


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    return {k: v for k, v in map(_split, deps) if k not in ("python", "pip")}


def test_every_dependency_has_a_lower_bound():
    for name, spec in _pyproject().items():
        assert spec.startswith(">="), f"{name} needs a pinned lower bound in pyproject.toml"


def test_environment_yml_is_in_step_with_pyproject():
    expected = {CONDA_NAMES.get(name, name): spec for name, spec in _pyproject().items()}
    assert _environment() == expected


def test_python_version_agrees():
    with open(ROOT / "pyproject.toml", "rb") as fh:
        requires = tomllib.load(fh)["project"]["requires-python"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{requires}" in env["dependencies"]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme.split("\n## ")[0], "the README opens with the test command"
    assert "make test" in ci
