"""Every notebook in notebooks/ runs through the report renderer with small parameters.

Each notebook is one test (they spread over the xdist workers). A report must
finish without error, contain no code cells, no tracebacks, no stderr/warning
outputs, embed its figures, load nothing from the network, have its executive
summary at the top, end with the reproducibility block, and write every table
its notebook exports.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml
from report_checks import assert_clean_outputs, assert_clean_page

from crmlab import render

NOTEBOOKS = render.list_notebooks()
SMALL = yaml.safe_load((render.NOTEBOOKS_DIR / "test_parameters.yaml").read_text()) or {}


def small_parameters(name: str, path: Path) -> dict:
    """Entries are keyed by name (customer_lifetime_value) or file stem (04_customer_...)."""
    return dict(SMALL.get(name) or SMALL.get(path.stem) or {})


def test_small_parameters_name_existing_notebooks_and_parameters():
    known = set(NOTEBOOKS) | {p.stem for p in NOTEBOOKS.values()}
    assert set(SMALL) <= known, (
        f"test_parameters.yaml names unknown notebooks: {set(SMALL) - known}"
    )
    for name, path in NOTEBOOKS.items():
        render.check_parameters(path, small_parameters(name, path))


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_renders_a_clean_report(name, tmp_path):
    path = NOTEBOOKS[name]
    source = nbformat.read(path, as_version=4)
    assert all(
        not c.get("outputs") and c.get("execution_count") is None
        for c in source.cells
        if c.cell_type == "code"
    ), f"{path.name} is committed with outputs; clear them"
    tags = [c.metadata.get("tags", []) for c in source.cells]
    assert ["parameters"] in tags[:3], f"{path.name}: cell 2 must be tagged 'parameters'"

    report = render.render_report(path, small_parameters(name, path), tmp_path)
    assert_clean_outputs(report.notebook)

    page = report.html.read_text(encoding="utf-8")
    assert f"<title>{report.title}" in page or "<title>" in page
    assert 'class="input' not in page and "input_area" not in page, "code cells shown"
    assert_clean_page(page)
    assert "<script" not in page.lower(), "reports must not carry scripts"
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "remote resource"
    assert "application/vnd.jupyter.widget" not in page
    assert "data:image/png;base64," in page, "no embedded figure"
    figures = [i for i in re.findall(r"<img\b[^>]*>", page) if "crmlab-math" not in i]
    for img in figures:  # formulas carry their TeX as alt text; figures say what they show
        alt = re.search(r'\balt="([^"]*)"', img)
        assert alt and len(alt.group(1).strip()) > 15, f"figure without alt text: {img[:120]}"
        assert "No description has been provided" not in alt.group(1), "placeholder alt text"
    assert 'class="crmlab-repro"' in page and page.rstrip().endswith("</html>")
    if render.SUMMARY_CLASS in page:
        assert page.count(f'class="{render.SUMMARY_CLASS}"') == 1
        assert page.index(f'class="{render.SUMMARY_CLASS}"') < page.index('class="cell'), (
            "summary not on top"
        )

    exported = re.findall(r"<code>([^<]+\.(?:csv|xlsx))</code>", page)
    for file in exported:
        assert (report.folder / file).stat().st_size > 0, f"missing export {file}"
    if "reports.export(" in "".join(c.source for c in source.cells):
        assert exported, "the notebook exports tables but the report shows none"
