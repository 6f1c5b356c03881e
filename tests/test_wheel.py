"""Installed from a wheel, the kit works from any folder: notebooks, datasets and templates
are package data, reports go to ./reports of the working directory.

Builds the wheel (``pip wheel . --no-deps``), installs it into a fresh virtual environment
that sees this environment's dependencies (its site-packages on the path) but not the
checkout, and renders a report from an unrelated folder. About a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


@pytest.mark.xdist_group("wheel")
def test_a_wheel_renders_a_report_from_an_unrelated_folder(tmp_path):
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", dist], ROOT)
    (wheel,) = dist.glob("crmlab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "crmlab/notebooks/02_customer_share.ipynb",
        "crmlab/datasets/manifest.toml",
        "crmlab/report/templates/page.html",
        "crmlab/report/templates/report.css",
    ):
        assert needed in names
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", venv], tmp_path)
    python = venv / "bin" / "python"
    # dependencies from this environment (a path in a .pth file: its own .pth files, such as
    # the editable crmlab's finder, are not run), crmlab only from the wheel
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path)
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    Path(site.stdout.strip(), "test-dependencies.pth").write_text("\n".join(deps) + "\n")
    # the test environment's editable crmlab must not be what the venv imports
    run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel], tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMLAB_", "PYTHON"))}
    # nbconvert's templates are data files of this environment (share/jupyter), which a
    # venv made with pip install would have in its own prefix
    env["JUPYTER_PATH"] = str(Path(sys.prefix, "share", "jupyter"))
    where = run([python, "-c", "import crmlab; print(crmlab.__file__)"], work, env).stdout
    assert str(venv) in where and str(ROOT) not in where
    run([venv / "bin" / "crmlab", "report", "customer_share"], work, env)
    folder = work / "reports" / "customer_share"
    page = (folder / "customer_share.html").read_text(encoding="utf-8")
    assert "crmlab-summary" in page and (folder / "customer_share-tables.xlsx").exists()
