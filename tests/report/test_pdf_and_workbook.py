"""The client edition as a client gets it: a PDF with footer and page numbers, tables that
are not cut at 1280 px, and one Excel workbook with the documented sheets."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from test_cli import LOAD, tiny_notebook

from crmlab import report as render
from crmlab.report import excel, pdf

EXPORTS = [
    LOAD,
    "reports.show_data_report(tx)",
    "spend = tx.groupby('customer_id').agg(orders=('amount', 'size'), revenue=('amount', 'sum'))\n"
    "spend['share_of_revenue'] = spend['revenue'] / spend['revenue'].sum()\n"
    "reports.export(spend, 'customer_spend')\n"
    "spend.head(120)",
    "import pandas as pd\n"
    "wide = pd.DataFrame({f'a_rather_long_column_name_{i}': [1234567.5] * 3 for i in range(25)})\n"
    "reports.export(wide, 'wide_table', index=False)\n"
    "wide",
]


@pytest.fixture(scope="module")
def client_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("client")
    path = tiny_notebook(folder / "nb", EXPORTS)
    formats = ("html", "pdf") if pdf.find_chromium() else ("html",)
    return render.render_report(
        path, {}, folder / "reports", edition="client", client="Acme Records", formats=formats
    )


def test_workbook_has_an_about_sheet_then_one_sheet_per_table(client_report):
    book = load_workbook(client_report.workbook)
    assert book.sheetnames == [excel.ABOUT_SHEET, "customer_spend", "wide_table"]
    spend = book["customer_spend"]
    header = [c.value for c in spend[1]]
    assert header == ["Customer id", "Orders (count)", "Revenue (money)", "Share of revenue (%)"]
    assert spend.freeze_panes == "A2"
    assert spend["B2"].number_format == "#,##0" and spend["C2"].number_format == "#,##0.00"
    assert spend["D2"].number_format == "0.0%"
    about = [[c.value for c in row] for row in book[excel.ABOUT_SHEET].iter_rows()]
    about = [row[: max([0] + [i + 1 for i, v in enumerate(row) if v is not None])] for row in about]
    assert excel.COLUMNS_HEADER in about and excel.ASSUMPTIONS_HEADER in about
    assert [
        "customer_spend",
        "revenue",
        "Revenue (money)",
        "money, in the data's currency",
        "#,##0.00",
    ] in about
    assert ["Margin", "0.3", "gross margin"] in about
    rows = spend.max_row - 1
    assert rows == len(open(client_report.folder / "customer_spend.csv").readlines()) - 1
    assert (client_report.folder / "customer_spend.csv").exists()  # the CSVs stay


def test_column_formats_follow_names_and_values():
    assert excel.column_format("p_alive", [0.2, 0.9]).number_format == "0.0%"
    assert excel.column_format("share", [0.2, 1.5]).unit != "%"  # not a share if above 1
    assert excel.column_format("clv", [1.5]).unit == "money"
    assert excel.column_format("lifetime_weeks", [1.5]).unit == "weeks"
    assert excel.column_format("customer_id", [7]).number_format == "0"


needs_chromium = pytest.mark.skipif(
    pdf.find_chromium() is None, reason="no chromium on PATH (apt-get install chromium)"
)


@needs_chromium
def test_pdf_has_pages_footer_with_client_name_and_page_numbers(client_report):
    assert client_report.pdf.exists() and client_report.pdf in client_report.files
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", str(client_report.pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert "Acme Records" in page
        assert f"Page {number} of {len(pages)}" in page


TABLES = """
Array.from(document.querySelectorAll('table')).map(t => {
  const box = t.parentElement, wrap = t.closest('.crmlab-table-wrap');
  const page = document.documentElement.clientWidth;
  return {
    fits: t.scrollWidth <= box.clientWidth + 1,
    scrolls: !!wrap && getComputedStyle(wrap).overflowX === 'auto'
      && wrap.getBoundingClientRect().right <= page + 1,
  };
})
"""


@needs_chromium
def test_no_table_is_cut_at_1280_px(client_report):
    tables = pdf.evaluate(client_report.html, TABLES, width=1280)
    assert len(tables) >= 3
    assert all(t["fits"] or t["scrolls"] for t in tables), tables
    assert any(not t["fits"] for t in tables), "the wide table should need its scroll box"
    page = pdf.evaluate(
        client_report.html, "document.documentElement.scrollWidth - window.innerWidth"
    )
    assert page <= 0, "the page itself scrolls sideways"
