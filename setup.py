"""Packaging: everything else is in pyproject.toml.

The repository keeps ``notebooks/`` and ``datasets/`` at the top level; they are
installed as the packages ``crmlab.notebooks`` and ``crmlab.datasets`` (package data
found with importlib.resources), so a kit installed from a wheel works like a checkout.
pyproject.toml cannot add packages mapped from other folders to ``packages.find``.
"""

from setuptools import find_packages, setup

BUNDLED = {"crmlab.notebooks": "notebooks", "crmlab.datasets": "datasets"}

setup(packages=[*find_packages(include=["crmlab*"]), *BUNDLED], package_dir=BUNDLED)
