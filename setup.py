"""Packaging: everything else is in pyproject.toml.

The repository keeps ``notebooks/`` and ``datasets/`` at the top level; they are
installed as the packages ``crmlab.notebooks`` and ``crmlab.datasets`` (package data
found with importlib.resources), so a kit installed from a wheel works like a checkout.
pyproject.toml cannot add packages mapped from other folders to ``packages.find``.
"""

from setuptools import find_packages, setup

BUNDLED = {"crmlab.notebooks": "notebooks", "crmlab.datasets": "datasets"}
#: folders of data only (no __init__.py), listed so setuptools installs them as packages
DATA_ONLY = ["crmlab.report.templates"]

setup(
    packages=[*find_packages(include=["crmlab*"]), *DATA_ONLY, *BUNDLED],
    package_dir=BUNDLED,
)
