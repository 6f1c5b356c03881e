"""Two editions from one notebook: cell rules, summary choice, and both editions rendered."""

from __future__ import annotations

import re

import nbformat
import pytest
from test_cli import LOAD, tiny_notebook

from crmlab import cli
from crmlab import report as render
from crmlab.report import editions, names

SUMMARY = (
    "from crmlab.reports import Action, Finding\n"
    "reports.executive_summary(\n"
    "    [Finding('The BG/NBD fit has P(alive) {p:.0%}.', {'p': 0.5})],\n"
    "    client=[Finding('{n:,} customers bought in the period.',\n"
    "                    {'n': tx.customer_id.nunique()})],\n"
    "    actions=[Action('keep', 'Keep the best {k} customers.', {'k': 10}, customers=10)],\n"
    ")"
)
CELLS = [
    LOAD,
    "reports.show_data_report(tx)",
    "import pandas as pd\n"
    "wide = pd.DataFrame({f'a_rather_long_column_name_{i}': [1234567.5] * 3 for i in range(25)})\n"
    "wide",
    SUMMARY,
    "from crmlab import teach\nteach.reset()",
]


def two_edition_notebook(folder):
    path = tiny_notebook(folder, CELLS)
    nb = nbformat.read(path, as_version=4)
    aside = nbformat.v4.new_markdown_cell("A teaching aside: see `02_customer_share.ipynb`.")
    aside.metadata["tags"] = [names.TEACHING_ONLY]
    plain = nbformat.v4.new_markdown_cell("# Your customers in one page\n\nFor the client only.")
    plain.metadata["tags"] = [names.CLIENT_ONLY]
    link = nbformat.v4.new_markdown_cell(
        "## Analysis\n\nAs in [notebook 2](02_customer_share.ipynb) and "
        "[the paper](https://example.org/paper)."
    )
    exercises = nbformat.v4.new_markdown_cell("## Exercises\n\nAnswer in the cell below.")
    after = nbformat.v4.new_code_cell("answer_1 = None  # your answer")
    nb.cells = [plain, nb.cells[0], nb.cells[1], link, aside, *nb.cells[2:], exercises, after]
    nbformat.write(nb, path)
    return path


def test_cells_of_each_edition():
    nb = nbformat.v4.new_notebook()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb.cells = [
        md("## Results"),
        code("x = 1"),
        md("Move the sliders to see the curve change."),
        code("widgets.explore(draw, cost=widgets.slider(1, 0, 5, 1, 'cost'))"),
        code("teach.question('03.1')"),
        md("## Exercises"),
        code("answer_1 = None"),
        md("### Exercise 2"),
        md("## Appendix: more results"),
        code("y = 2"),
    ]
    nb.cells[1].metadata["tags"] = [names.TEACHING_ONLY]
    nb.cells[9].metadata["tags"] = [names.CLIENT_ONLY]
    client = nbformat.from_dict(nb)
    assert editions.select_cells(client, names.CLIENT) == [1, 2, 3, 4, 5, 6, 7]
    assert [c.source for c in client.cells] == ["## Results", "## Appendix: more results", "y = 2"]
    teaching = nbformat.from_dict(nb)
    assert editions.select_cells(teaching, names.TEACHING) == [9]


def test_summary_blocks_are_split_and_the_client_falls_back_with_a_note():
    teaching = f'<div class="{names.SUMMARY_CLASS}"><div>nested</div><p>T</p></div>'
    client = f'<div class="{names.CLIENT_CLASS}"><p>C</p></div>'
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": teaching + client})]
    nb.cells = [cell]
    notes: list[str] = []
    assert editions.pick_summary(nbformat.from_dict(nb), names.CLIENT, notes) == client
    assert editions.pick_summary(nbformat.from_dict(nb), names.TEACHING, notes) == teaching
    assert notes == []
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": teaching})]
    assert editions.pick_summary(nb, names.CLIENT, notes) == teaching
    assert len(notes) == 1 and "no plain-words summary" in notes[0]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("editions")
    path = two_edition_notebook(folder / "nb")
    out = folder / "reports"
    teaching = render.render_report(path, {}, out)
    client = render.render_report(
        path, {}, out, edition="client", client="Acme Records", prepared_by="Jo Analyst"
    )
    return teaching, client


def test_teaching_edition_keeps_exercises_asides_and_the_notebook(rendered):
    teaching, _ = rendered
    page = teaching.html.read_text()
    assert teaching.folder.name == "tiny" and teaching.notebook.exists()
    assert "A teaching aside" in page and "Exercises" in page
    assert f'class="{names.SUMMARY_CLASS}"' in page and f'class="{names.CLIENT_CLASS}"' not in page
    assert "For the client only" not in page and "<title>Tiny report</title>" in page


def test_client_edition_has_no_exercise_code_notebook_link_or_analyst_summary(rendered):
    _, client = rendered
    page = client.html.read_text()
    assert client.folder.name == "tiny-client"
    assert "<title>Your customers in one page</title>" in page
    assert "Prepared for <strong>Acme Records</strong>" in page and "Jo Analyst" in page
    assert re.search(r"transactions by [\d,]+ customers, \d+ \w+ \d{4} to", page)
    assert f'class="{names.CLIENT_CLASS}"' in page and f'class="{names.SUMMARY_CLASS}"' not in page
    assert "customers bought in the period" in page and "Recommended actions" in page
    assert "P(alive)" not in page.split('class="crmlab-appendix"')[0]
    assert "Exercises" not in page and "answer_1" not in page and "teaching aside" not in page
    assert ".ipynb" not in page and "notebook 2" in page  # the link's text stays
    assert 'href="https://example.org/paper"' in page
    assert 'class="input' not in page and "input_area" not in page and "<pre" not in page
    assert (
        "Method and assumptions" in page and "<td>Margin</td><td>0.3</td><td>gross margin" in page
    )
    assert client.notebook.exists() and client.notebook.parent.name == ".notebook"
    assert not any(p.suffix == ".ipynb" for p in client.files)


def test_client_edition_index_links_no_notebook(rendered, tmp_path):
    teaching, client = rendered
    index = render.write_index([client], client.folder.parent, edition="client")
    page = index.read_text()
    assert "customers bought in the period" in page  # the client headline
    assert ".ipynb" not in page and "client" in page
    index = render.write_index([teaching], teaching.folder.parent)
    page = index.read_text()
    assert 'href="tiny/tiny.ipynb"' in page and "The BG/NBD fit" in page


def test_solutions_are_refused_for_the_client_edition_and_without_exercises(tmp_path, capsys):
    path = tiny_notebook(tmp_path / "nb", ["x = 1"], name="99_tiny.ipynb")  # no exercises 99.*
    with pytest.raises(render.ReportError, match="client edition has no exercises"):
        render.render_report(path, {}, tmp_path / "r", edition="client", solutions=True)
    with pytest.raises(render.ReportError, match="no exercises defined"):
        render.render_report(path, {}, tmp_path / "r", solutions=True)
    assert cli.main(["report", "--all", "--solutions", "--out", str(tmp_path / "r")]) == 2
    assert "name the notebook instead of --all" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_formats_are_comma_separated_or_repeated():
    assert cli.parse_formats(["html,pdf"]) == ("html", "pdf")
    assert cli.parse_formats(["html", "pdf", "html"]) == ("html", "pdf")
    assert cli.parse_formats(None) == ("html",)
    with pytest.raises(render.ReportError, match="unknown format 'docx'"):
        cli.parse_formats(["html,docx"])
