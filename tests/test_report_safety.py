"""Report safety: client data cannot run in a report, outputs never overwrite inputs,
parameter files cannot exhaust memory, concurrent runs leave consistent outputs.

The browser checks run in headless chromium and are skipped (with the reason) when
none is installed: `apt-get install chromium`.
"""

from __future__ import annotations

import fcntl
import html
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from test_cli import LOAD, tiny_notebook

from crmlab import cli, data, render, reports

PAYLOADS = [
    "<img src=x onerror=document.title='pwned'>",
    "<script>document.title='pwned'</script>",
    '"><svg onload="document.body.setAttribute(\'data-pwned\', 1)">',
    "<iframe src=javascript:document.title='pwned'></iframe>",
    "<a href=\"javascript:document.title='pwned'\">click</a>",
]
needs_chromium = pytest.mark.skipif(
    render.find_chromium() is None,
    reason="no chromium on PATH: install it to run the browser checks (apt-get install chromium)",
)


def payload_notebook() -> nbformat.NotebookNode:
    """An executed notebook whose outputs carry client ids the way notebooks show them."""
    v4 = nbformat.v4
    frame = pd.DataFrame({"customer_id": PAYLOADS, "clv": range(len(PAYLOADS))})
    raw_styler = frame.style.format(escape=None).to_html()  # a Styler without escaping
    markdown = "Top customer: " + PAYLOADS[0] + " and " + PAYLOADS[2]
    summary = (
        f'<div class="{render.SUMMARY_CLASS}"><h2>Summary</h2><ul><li>{PAYLOADS[1]}</li></ul></div>'
    )
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Payloads\n\nClient data below."),
        v4.new_code_cell(
            "t", outputs=[v4.new_output("display_data", data={"text/html": raw_styler})]
        ),
        v4.new_code_cell(
            "m", outputs=[v4.new_output("display_data", data={"text/markdown": markdown})]
        ),
        v4.new_code_cell("s", outputs=[v4.new_output("display_data", data={"text/html": summary})]),
    ]
    return nb


def test_sanitizer_escapes_markup_from_data_and_keeps_report_markup():
    page = render.to_html(payload_notebook(), {"data_path": PAYLOADS[0]}, title=PAYLOADS[1])
    lowered = page.lower()
    assert "<script" not in lowered and "<svg" not in lowered and "<iframe" not in lowered
    assert not re.search(r"<[^>]+\son\w+\s*=", page), "an event handler survived"
    assert "javascript:" not in re.sub(r"&lt;.*?&gt;", "", page, flags=re.S).lower()
    # the payloads stay readable as text
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in page
    assert "&lt;svg onload=" in page
    # the report's own markup survives: tables, the summary at the top, the repro block
    assert "<table" in page and "<td" in page
    assert page.index(render.SUMMARY_CLASS) < page.index("Client data below")
    assert 'class="crmlab-repro"' in page
    assert f'content="{render.CSP}"' in page and "script-src 'none'" in render.CSP


def test_images_only_from_data_uris():
    fragment = (
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="fig">'
        '<img src="https://example.org/track.gif"><img src="x" onerror="alert(1)">'
    )
    clean = render.sanitize_html(fragment)
    assert clean.count("<img") == 3
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in clean
    assert "example.org" not in clean and 'src="x"' not in clean and "onerror" not in clean


def test_styler_escapes_data_after_setup():
    frame = pd.DataFrame({"customer_id": PAYLOADS[:2], "x": [1.0, 2.0]})
    with pd.option_context("styler.format.escape", None):
        reports.setup()
        styled = frame.style.format("{:.1f}", subset=["x"]).to_html()
    assert "<script>" not in styled and "&lt;script&gt;" in styled
    assert "&lt;img src=x onerror=" in styled


def test_data_report_block_escapes_and_counts():
    frame = data.validate_transactions(
        pd.DataFrame(
            {
                "customer_id": [PAYLOADS[1], PAYLOADS[1], "b"],
                "date": ["2024-01-02", "2024-01-02", "2024-02-03"],
                "amount": [10.0, 10.0, 5.0],
            }
        ),
        source="<b>client.csv</b>",
        duplicates="drop",
    )
    block = reports.data_report_html(frame)
    report = data.data_report(frame)
    assert f'class="{reports.DATA_REPORT_CLASS}"' in block
    assert "&lt;b&gt;client.csv&lt;/b&gt;" in block and "<b>" not in block
    assert f"<th>Rows read</th><td>{report.rows_in}</td>" in block
    assert f"<th>Rows kept</th><td>{report.rows_out}</td>" in block
    assert report.rows_in == 3 and report.rows_out == 2
    for why, n in report.excluded.items():
        assert f"Excluded: {why}" in block and f"<td>{n}</td>" in block
    bare = reports.data_report_html(pd.DataFrame({"a": [1]}))
    assert "no data report" in bare


def test_data_report_moves_to_the_data_section():
    v4 = nbformat.v4
    frame = data.validate_transactions(
        pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-02"], "amount": [1.0]}),
        source="client.csv",
    )
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# T\n\nStory."),
        v4.new_code_cell(
            "show",
            outputs=[
                v4.new_output("display_data", data={"text/html": reports.data_report_html(frame)})
            ],
        ),
    ]
    page = render.to_html(nb, {"data_path": "client.csv"}, title="T")
    assert page.count(f'class="{reports.DATA_REPORT_CLASS}"') == 1
    repro = page[page.index('class="crmlab-repro"') :]
    assert f'class="{reports.DATA_REPORT_CLASS}"' in repro and "Rows kept" in repro


# --------------------------------------------------------------------------- browser


def dump_dom(page_path, tmp_path) -> str:
    result = render.chromium(["--virtual-time-budget=3000", "--dump-dom", page_path.as_uri()])
    assert "<html" in result.stdout, result.stderr[-800:]
    return result.stdout


@needs_chromium
def test_detector_sees_a_payload_run_in_an_unprotected_page(tmp_path):
    """The check below can fail: the same payload in a raw page rewrites the title."""
    raw = tmp_path / "raw.html"
    raw.write_text(f"<html><head><title>Safe</title></head><body>{PAYLOADS[0]}</body></html>")
    assert "<title>pwned</title>" in dump_dom(raw, tmp_path)


@pytest.fixture(scope="module")
def payload_report(tmp_path_factory) -> render.Report:
    folder = tmp_path_factory.mktemp("payload")
    rows = [
        {"Cust": cid, "OrderDate": f"2024-0{1 + i % 3}-1{i}", "Revenue": 10.0 + i}
        for i, cid in enumerate(PAYLOADS * 2)
    ]
    pd.DataFrame(rows).to_csv(folder / "client.csv", index=False)
    nb = tiny_notebook(
        folder / "nb",
        [
            LOAD,
            "reports.show_data_report(tx)",
            "from IPython.display import HTML, Markdown, display\n"
            "top = tx.groupby('customer_id')['amount'].sum().sort_values()\n"
            "display(Markdown(f'Top customer: {top.index[-1]}; first: {top.index[0]}'))\n"
            "display(HTML(str(top.index[-2])))",
            "top.to_frame().style.format('{:.2f}')",
            "top.to_frame()",
            "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
            "ax.barh(top.index, top.values)\nplt.show()",
            "reports.executive_summary([f'Best customer: {top.index[-1]}'])",
        ],
    )
    return render.render_report(
        nb,
        {
            "data_path": str(folder / "client.csv"),
            "column_map": "customer_id=Cust,date=OrderDate,amount=Revenue",
        },
        folder / "reports",
    )


@needs_chromium
@pytest.mark.parametrize("with_csp", [True, False], ids=["as-rendered", "without-csp"])
def test_client_ids_with_html_do_not_run_in_the_report(payload_report, tmp_path, with_csp):
    page = payload_report.html.read_text()
    if not with_csp:  # the sanitiser alone must suffice: drop the CSP and look again
        page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    copy = tmp_path / "report.html"
    copy.write_text(page)
    dom = dump_dom(copy, tmp_path)
    assert "<title>Tiny report</title>" in dom
    assert "pwned" not in re.sub(r"&lt;.*?&gt;", "", dom, flags=re.S).replace("'pwned'", "")
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    lowered = dom.lower()
    assert "<svg" not in lowered and "<iframe" not in lowered and "<script" not in lowered
    # every id is shown as text, escaped, in both tables (DataFrame and Styler)
    text = page.replace("&#x27;", "'").replace("&quot;", '"')
    for payload in PAYLOADS:
        assert text.count(html.escape(payload, quote=False)) >= 2, payload
    # and the summary and the markdown show the top and bottom customers as text
    summary = text[text.index(f'<div class="{render.SUMMARY_CLASS}">') :][:600]
    assert html.escape(PAYLOADS[4], quote=False) in summary
    assert "first: " + html.escape(PAYLOADS[0], quote=False) in text


@needs_chromium
def test_csp_stops_a_script_that_slipped_past_the_sanitiser(payload_report, tmp_path):
    page = payload_report.html.read_text()
    slipped = page.replace("</body>", PAYLOADS[0] + PAYLOADS[1] + PAYLOADS[2] + "</body>")
    copy = tmp_path / "slipped.html"
    copy.write_text(slipped)
    dom = dump_dom(copy, tmp_path)
    assert "<title>Tiny report</title>" in dom
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]


# ------------------------------------------------------------ outputs never overwrite inputs


def test_data_inside_the_report_folder_is_refused_and_kept(tmp_path, capsys, cdnow_sample):
    nb = tiny_notebook(tmp_path / "nb", [LOAD, "reports.export(tx.head(3), 'spend')"])
    out = tmp_path / "out"
    (out / "tiny").mkdir(parents=True)
    client = out / "tiny" / "spend.csv"  # named like the table the report exports
    cdnow_sample.head(50).to_csv(client, index=False)
    before = data.sha256(client)
    code = cli.main(["report", str(nb), "--data", str(client), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"--data {client} is inside {out.resolve() / 'tiny'}" in err
    assert "choose another --out" in err
    assert data.sha256(client) == before
    assert not (out / "tiny" / "tiny.ipynb").exists()


def test_hard_link_to_an_output_and_parameters_file_in_the_folder_are_refused(
    tmp_path, cdnow_sample
):
    nb = tiny_notebook(tmp_path / "nb", [LOAD, "reports.export(tx.head(3), 'spend')"])
    out = tmp_path / "out"
    first = render.render_report(nb, {}, out)
    linked = tmp_path / "linked.csv"
    linked.hardlink_to(first.folder / "spend.csv")
    with pytest.raises(render.ReportError, match="is the same file as"):
        render.render_report(nb, {"data_path": str(linked)}, out)
    params = first.folder / "p.yaml"
    params.write_text("margin: 0.2\n")
    with pytest.raises(render.ReportError, match="parameters file .* is inside"):
        render.render_report(nb, {}, out, inputs={"parameters file": params})
    with pytest.raises(render.ReportError, match="notebook .* is inside"):
        render.render_report(first.notebook, {}, out)
    assert params.read_text() == "margin: 0.2\n"
    (tmp_path / "file").write_text("x")
    with pytest.raises(render.ReportError, match="is a file, not a folder"):
        render.render_report(nb, {}, tmp_path / "file")


# ------------------------------------------------------------------------- parameters


BILLION_LAUGHS = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BILLION_LAUGHS, r"line 2, column 8: YAML aliases \(\*a\) are not allowed"),
        ("margin: 0.3\nrows: [1, 2\nfail: no\n", r"line 3, column 5: expected ',' or '\]'"),
        (
            "margin: !!python/object/apply:os.system ['echo pwned']\n",
            r"line 1, column 9: could not determine a constructor .* Only plain values",
        ),
        ("margin: 0.3\n  rows: 2\n", r"line 2, column 7: mapping values are not allowed"),
        ("- margin\n- 0.3\n", "must be a mapping 'name: value', got list"),
        ("1: x\n", "parameter names are text, got 1"),
        ("margin: 'a\n", r"line 2, column 1: found unexpected end of stream"),
    ],
    ids=["billion-laughs", "syntax", "python-tag", "indentation", "list", "number-key", "quote"],
)
def test_bad_parameters_file_is_one_clear_error(tmp_path, capsys, text, message):
    nb = tiny_notebook(tmp_path / "nb", ["open('ran.txt', 'w').write('x')"])
    (tmp_path / "p.yaml").write_text(text)
    start = time.perf_counter()
    code = cli.main(["report", str(nb), "-f", str(tmp_path / "p.yaml"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert time.perf_counter() - start < 5
    assert code == 2
    assert "Traceback" not in err
    assert re.search(rf"parameters file {re.escape(str(tmp_path / 'p.yaml'))}.*{message}", err)
    assert not (tmp_path / "nb" / "ran.txt").exists()


def test_parameters_file_size_is_limited(tmp_path):
    big = tmp_path / "p.yaml"
    big.write_text("column_map: '" + "x" * render.MAX_PARAMETERS_FILE_BYTES + "'\n")
    with pytest.raises(render.ParameterError, match=r"has 1,000,015 bytes; at most 1,000,000"):
        render.load_parameters_file(big)
    with pytest.raises(render.ParameterError, match="cannot read parameters file"):
        render.load_parameters_file(tmp_path / "missing.yaml")
    (tmp_path / "latin.yaml").write_bytes("margin: 0.3 # caf\xe9\n".encode("latin-1"))
    with pytest.raises(render.ParameterError, match=r"not UTF-8 text \(byte 17\)"):
        render.load_parameters_file(tmp_path / "latin.yaml")


def test_a_plain_parameters_file_still_reads(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "margin: 0.25\ncutoffs: [0.01, 0.04]\nend: 1998-06-30\nopts: {sheet: Orders}\n"
    )
    loaded = render.load_parameters_file(tmp_path / "p.yaml")
    assert loaded["margin"] == 0.25 and loaded["cutoffs"] == [0.01, 0.04]
    assert loaded["opts"] == {"sheet": "Orders"}
    assert render._coerce(loaded["end"], render.Parameter("end", "str", "", "")) == "1998-06-30"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("rows", "9" * 10_000_000, r"'9{80}'\.\.\. \(10,000,000 characters\)"),
        ("dataset", "x" * 10_000_000, r"is too long: 'x{80}'\.\.\. \(10,000,000 characters\)"),
        ("margin", "9" * 400, "expects a finite number, got inf"),
        ("margin", float("nan"), "expects a finite number, got nan"),
        ("rows", [[1] * 20_000], "too large: at most 10,000 items"),
        ("rows", object(), "holds a object"),
        ("fail", "[" * 50_000, r"expects bool .* got '\[{80}'\.\.\. \(50,000 characters\)"),
    ],
    ids=["10MB-int", "10MB-str", "overflow", "nan", "huge-list", "object", "nested-text"],
)
def test_parameter_values_are_checked_before_formatting(tmp_path, key, value, message):
    nb = tiny_notebook(tmp_path, ["x = 1"])
    start = time.perf_counter()
    with pytest.raises(render.ParameterError, match=message) as caught:
        render.check_parameters(nb, {key: value})
    assert time.perf_counter() - start < 2
    assert len(str(caught.value)) < 2_000


# ---------------------------------------------------------------------- concurrent runs

MARGIN_TABLE = [
    "import time\nimport pandas as pd\nfrom crmlab import reports\nreports.setup()\ntime.sleep(1)",
    "reports.export(pd.DataFrame({'margin': [margin] * 2000}), 'table')",
    "reports.executive_summary([f'Margin {margin}'])",
]
QUICK_TABLE = [MARGIN_TABLE[0].replace("time.sleep(1)", ""), *MARGIN_TABLE[1:]]


def test_two_runs_to_one_folder_both_succeed_with_consistent_outputs(tmp_path):
    nb = tiny_notebook(tmp_path / "nb", MARGIN_TABLE)
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("crmlab")
    runs = [
        subprocess.Popen(
            [exe, "report", str(nb), "-p", "margin", margin, "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for margin in ("0.1", "0.9")
    ]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0, 0], results
    assert any("another run is writing" in err for _, _, err in results)
    folder = out / "tiny"
    page = (folder / "tiny.html").read_text()
    shown = re.search(r"<code>margin</code></td><td><code>([0-9.]+)</code>", page).group(1)
    csv = pd.read_csv(folder / "table.csv")["margin"]
    xlsx = pd.read_excel(folder / "table.xlsx")["margin"]
    assert len(csv) == len(xlsx) == 2000
    assert set(csv) == set(xlsx) == {float(shown)}
    assert f"Margin {shown}" in page
    assert sorted(p.name for p in out.iterdir()) == [".tiny.lock", "tiny"]


def test_a_run_gives_up_clearly_while_another_holds_the_report(tmp_path):
    nb = tiny_notebook(tmp_path / "nb", QUICK_TABLE)
    out = tmp_path / "out"
    first = render.render_report(nb, {"margin": 0.1}, out)
    before = (first.folder / "table.csv").read_bytes()
    with open(out / ".tiny.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(render.ReportError, match=r"still writing .* after 1 s"):
            render.render_report(nb, {"margin": 0.9}, out, lock_timeout=1)
    assert (first.folder / "table.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [".tiny.lock", "tiny"]


def test_leftovers_of_a_crashed_run_are_cleared_and_the_folder_replaced_whole(tmp_path):
    nb = tiny_notebook(tmp_path / "nb", QUICK_TABLE)
    out = tmp_path / "out"
    (out / "tiny").mkdir(parents=True)
    (out / "tiny" / "stale_from_an_old_run.csv").write_text("x\n")
    crashed = out / f".tiny.tmp-{'0' * 32}"
    crashed.mkdir()
    (crashed / "table.csv").write_text("half")
    report = render.render_report(nb, {"margin": 0.5}, out)
    assert not crashed.exists()
    assert not (report.folder / "stale_from_an_old_run.csv").exists()
    assert sorted(p.name for p in report.folder.iterdir()) == [
        "executive_summary.json",
        "table.csv",
        "table.xlsx",
        "tiny-tables.xlsx",
        "tiny.html",
        "tiny.ipynb",
    ]
    assert report.files == [
        report.folder / n
        for n in (
            "tiny.ipynb",
            "tiny.html",
            "tiny-tables.xlsx",
            "table.csv",
            "table.xlsx",
            "executive_summary.json",
        )
    ]
