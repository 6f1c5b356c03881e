"""Open a rendered report in a real headless chromium: figures load, no script
errors, no horizontal scrolling on a phone, and a screenshot is taken.

Skipped (with the reason) when no chromium is installed: `apt-get install chromium`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from test_cli import LOAD, tiny_notebook

from crmlab import render

pytestmark = pytest.mark.skipif(
    render.find_chromium() is None,
    reason="no chromium on PATH: install it to run the browser test (apt-get install chromium)",
)

PROBE = """
<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.type)), true);
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const out = {
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0))
                .map(i => i.alt || i.src.slice(0, 40)),
    errors: window.__errors,
    title: document.title,
    summaryFirst: !!document.querySelector('main > .crmlab-summary'),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    width: window.innerWidth,
  };
  const pre = document.createElement('pre');
  pre.id = 'crmlab-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def probe(page: Path, width: int, tmp_path: Path) -> dict:
    """Load ``page`` plus a probe script in chromium and read what the probe found."""
    probed = page.with_name(f"probe_{width}.html")
    # a page's Content-Security-Policy forbids scripts from where it is declared on: the
    # probe goes first in <head>, so it runs, and the report's own markup stays under the CSP
    probed.write_text(page.read_text().replace("<head>", "<head>" + PROBE, 1))
    result = render.chromium(
        [f"--window-size={width},900", "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()]
    )
    found = re.search(r'<pre id="crmlab-probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"page did not finish loading: {result.stderr[-800:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> render.Report:
    folder = tmp_path_factory.mktemp("browser")
    nb = tiny_notebook(
        folder / "nb",
        [
            LOAD,
            "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
            "ax.hist(tx['amount'], bins=30)\nax.set(title='Order values', xlabel='US$')\n"
            "plt.show()",
            "tx.describe()",
            "reports.executive_summary([f'{tx.customer_id.nunique():,} customers.'])",
        ],
    )
    (nb.parent / "01_tiny.ipynb").write_text(
        nb.read_text().replace("Some text.", "Spend is $E[M] = p\\\\gamma/(q-1)$ per order.")
    )
    return render.render_report(nb, {}, folder / "reports")


@pytest.mark.parametrize("width", [1200, 390])
def test_report_loads_with_figures_and_no_errors(report, width, tmp_path):
    found = probe(report.html, width, tmp_path)
    assert found["title"] == "Tiny report"
    assert found["images"] >= 2, "the figure and the formula should be images"
    assert found["broken"] == []
    assert found["errors"] == []
    assert found["summaryFirst"]
    assert found["overflow"] <= 1, f"page scrolls sideways at {width}px"


def test_screenshot_shows_a_page(report, tmp_path):
    shot = tmp_path / "report.png"
    render.chromium([f"--screenshot={shot}", "--window-size=1000,1400", report.html.as_uri()])
    assert shot.exists()
    pixels = mpimg.imread(shot)
    assert pixels.shape[0] == 1400 and pixels.shape[1] == 1000
    assert pixels[..., :3].std() > 0.05, "the screenshot is blank"


def test_pdf_is_printed_offline(report):
    pdf = render.print_pdf(report.html)
    assert pdf == report.html.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
