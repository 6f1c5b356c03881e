"""Rendering an executed notebook into a self-contained report (no kernel needed)."""

from __future__ import annotations

import base64
import hashlib
import re

import nbformat
import pandas as pd
import pytest

import crmlab
from crmlab import render, reports

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def executed_notebook() -> nbformat.NotebookNode:
    """What papermill leaves: code with outputs, a widget, a summary, stderr."""
    v4 = nbformat.v4
    summary = (
        '<div class="crmlab-summary"><h2>Executive summary</h2>'
        "<ul><li>42 customers.</li></ul></div>"
    )
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}, "text/plain": "W"}
    nb = v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells = [
        v4.new_markdown_cell("# The title\n\nRead $E[X] = r/\\alpha$ and\n\n$$P = \\frac{1}{2}$$"),
        v4.new_code_cell("secret_code_line = 1", outputs=[]),
        v4.new_code_cell(
            "plot()",
            outputs=[v4.new_output("display_data", data={"image/png": PNG, "text/plain": "F"})],
        ),
        v4.new_code_cell("w", outputs=[v4.new_output("display_data", data=widget)]),
        v4.new_code_cell("warn()", outputs=[v4.new_output("stream", name="stderr", text="Oops\n")]),
        v4.new_code_cell(
            "reports.executive_summary([...])",
            outputs=[v4.new_output("display_data", data={"text/html": summary})],
        ),
    ]
    return nb


def test_page_has_no_code_no_scripts_no_remote_resources():
    page = render.to_html(
        executed_notebook(), {"dataset": "cdnow_sample", "margin": 0.3}, title="T"
    )
    assert "secret_code_line" not in page and "plot()" not in page
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "mathjax" not in page.lower() and "require" not in page.lower()
    assert f"data:image/png;base64,{PNG}" in page
    assert "widget" not in page
    assert '<meta name="viewport"' in page and "@media (max-width" in page
    assert "<title>T</title>" in page


def test_summary_is_moved_to_the_top_once():
    page = render.to_html(executed_notebook(), {}, title="T")
    assert page.count('class="crmlab-summary"') == 1
    summary = page.index('class="crmlab-summary"')
    assert page.index("<h1>T</h1>") < summary < page.index('class="cell')


def test_stderr_stays_visible_so_it_gets_fixed():
    page = render.to_html(executed_notebook(), {}, title="T")
    assert "Oops" in page


def test_formulas_become_embedded_svg():
    page = render.to_html(executed_notebook(), {}, title="T")
    assert page.count("data:image/svg+xml;base64,") == 2
    assert "$" not in page.split('<section class="crmlab-repro">')[0].split("<body>")[1]
    assert 'alt="E[X] = r/\\alpha"' in page
    # text that is not a formula stays as it is
    for text in ("costs 5 dollars", "costs $5 and $10 a month", "a $ b $ c"):
        assert render.render_math(text) == text
    assert render.render_math("one $x$").count("<img") == 1


def test_common_tex_that_mathtext_lacks_is_translated():
    assert render._mathtext(r"\text{delivered value} \ge 1") == r"\mathrm{delivered\ value} \geq 1"
    assert render._mathtext(r"\underbrace{a + b}_{\text{total}} - c") == "a + b - c"
    assert render._mathtext(r"\dfrac{1}{2}") == r"\frac{1}{2}"
    # a formula over two lines is one formula (mathtext would print each line as text)
    two_lines = render._math_svg("a = b,\n c = d", True)
    svg = base64.b64decode(two_lines.split("base64,")[1].split('"')[0]).decode()
    assert "DejaVuSans-Oblique" in svg, "letters upright: drawn as text, not as a formula"
    for tex in (r"\min\{\tau \ge t_x\}", r"\underbrace{V_\text{p}}_{\text{total}}"):
        assert render._math_svg(tex, False).startswith("<img")


def test_reproducibility_block_has_versions_data_hash_parameters_and_date():
    params = {"dataset": "cdnow_sample", "margin": 0.3, "column_map": ""}
    block = render.reproducibility_html(params)
    entry = crmlab.list_datasets().loc["cdnow_sample"]
    assert entry["sha256"] in block and "bundled dataset cdnow_sample" in block
    assert f"crmlab {crmlab.__version__}" in block and "pandas " in block
    assert "<code>margin</code>" in block and "<code>0.3</code>" in block
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", block)


def test_data_source_hashes_a_client_file(tmp_path):
    f = tmp_path / "client.csv"
    f.write_bytes(b"Cust,OrderDate,Revenue\n1,2020-01-01,3\n")
    desc, digest = render.data_source({"data_path": str(f), "dataset": "cdnow"})
    assert digest == hashlib.sha256(f.read_bytes()).hexdigest()
    assert "client.csv" in desc
    assert render.data_source({"data_path": "postgresql://u:pw@host/db"})[0].endswith("host/db")
    assert "pw" not in render.data_source({"data_path": "postgresql://u:pw@host/db"})[0]


def test_export_writes_csv_and_excel_into_the_report_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(reports.EXPORT_ENV, str(tmp_path))
    frame = pd.DataFrame({"clv": [1.5, 2.5]}, index=pd.Index(["a", "b"], name="customer_id"))
    paths = reports.export(frame, "customers_clv")
    assert paths == [tmp_path / "customers_clv.csv", tmp_path / "customers_clv.xlsx"]
    back = pd.read_csv(paths[0], index_col=0)
    pd.testing.assert_frame_equal(back, frame)
    assert pd.read_excel(paths[1], index_col=0)["clv"].tolist() == [1.5, 2.5]


def test_index_links_reports_and_lists_failures(tmp_path):
    ok = render.Report("a", "Report A", tmp_path / "a", tmp_path / "a" / "a.ipynb")
    ok.files = [tmp_path / "a" / "a.ipynb", ok.html, tmp_path / "a" / "t.csv"]
    (tmp_path / "a").mkdir()
    for file in ok.files:
        file.write_text("x")
    bad = render.Report("b", "b", tmp_path / "b", tmp_path / "b" / "b.ipynb", error="boom")
    index = render.write_index([ok, bad], tmp_path)
    page = index.read_text()
    assert 'href="a/a.html">Report A</a>' in page and 'href="a/t.csv"' in page
    assert "failed" in page and "boom" in page


def test_bad_format_is_rejected():
    with pytest.raises(render.ReportError, match="unknown format 'docx'"):
        render.render_report("anything", formats=("docx",))


def test_table_numbers_are_readable():
    assert reports._number(19170.46) == "19,170"
    assert reports._number(0.30412) == "0.3041"
    assert reports._number(-12.149) == "-12.15"
    assert reports._number(0.0) == "0"
    assert reports._number(3e-7) == "3.00e-07"
    assert reports._number(float("nan")) == "nan"
