"""The ``crmlab report`` command: listing, parameter checks before execution,
failing cells, client column names, PDF guidance."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from crmlab import cli, data
from crmlab import report as render
from crmlab.report import parameters, pdf

PARAMS = (
    'dataset: str = "cdnow_sample"  # bundled dataset, used when data_path is empty\n'
    'data_path: str = ""  # a client file\n'
    'column_map: str = ""  # client column names: customer_id=Cust,...\n'
    "margin: float = 0.3  # gross margin\n"
    "rows: int = (\n    3  # rows to show\n)\n"
    "fail: bool = False  # raise on purpose"
)


def tiny_notebook(
    folder: Path, body: list[str], name: str = "01_tiny.ipynb", params: str = PARAMS
) -> Path:
    """A small parameterised notebook in ``folder`` that runs in a second."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny report\n\nSome text."),
        cell,
        *[nbformat.v4.new_code_cell(src) for src in body],
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, path)
    return path


LOAD = (
    "import crmlab\nfrom crmlab import reports\nreports.setup()\n"
    "tx = crmlab.load_source(dataset, data_path, column_map)"
)


def test_unknown_parameter_is_rejected_before_running(tmp_path, capsys):
    nb = tiny_notebook(tmp_path / "nb", ["open('ran.txt', 'w').write('x')"])
    code = cli.main(["report", str(nb), "-p", "no_such_param", "1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown parameter 'no_such_param'" in err
    for name in ("dataset", "data_path", "column_map", "margin", "rows", "fail"):
        assert name in err
    assert not (tmp_path / "nb" / "ran.txt").exists()
    assert not (tmp_path / "r" / "tiny" / "tiny.ipynb").exists()


@pytest.mark.parametrize(
    ("key", "value"), [("margin", "high"), ("rows", "2.5"), ("fail", "maybe"), ("rows", "x")]
)
def test_wrongly_typed_value_is_rejected(tmp_path, capsys, key, value):
    nb = tiny_notebook(tmp_path, ["x = 1"])
    code = cli.main(["report", str(nb), "-p", key, value, "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"parameter {key!r} expects" in err and repr(value) in err
    assert "Valid parameters" in err
    assert not (tmp_path / "r" / "tiny" / "tiny.ipynb").exists()


def test_values_are_converted_to_declared_types(tmp_path):
    nb = tiny_notebook(tmp_path, ["x = 1"])
    got = render.check_parameters(nb, {"margin": "0.25", "rows": "7", "fail": "no"})
    assert got == {"margin": 0.25, "rows": 7, "fail": False}
    assert render.check_parameters(nb, {"margin": 1})["margin"] == 1.0
    with pytest.raises(render.ParameterError, match="expects int"):
        render.check_parameters(nb, {"rows": True})


def test_parameters_file_and_flags_map_to_notebook_parameters(tmp_path):
    (tmp_path / "p.yaml").write_text("margin: 0.4\nrows: 2\n")
    args = cli._parser().parse_args(
        [
            "report",
            "x",
            "-f",
            str(tmp_path / "p.yaml"),
            "--data",
            "a.csv",
            "--map",
            "a=b",
            "--dataset",
            "cdnow",
            "-p",
            "rows",
            "5",
        ]
    )
    assert cli._gather_parameters(args) == {
        "margin": 0.4,
        "rows": "5",
        "data_path": "a.csv",
        "column_map": "a=b",
        "dataset": "cdnow",
    }


def test_reading_flags_fill_data_options_over_a_parameters_file(tmp_path):
    (tmp_path / "p.yaml").write_text("data_options:\n  sheet: Old\n  decimal: ','\n")
    args = cli._parser().parse_args(
        ["report", "x", "-f", str(tmp_path / "p.yaml"), "--sheet", "Orders", "--dayfirst"]
        + ["--table", "t", "--query", "SELECT 1", "--thousands", ".", "--date-format", "%d.%m.%Y"]
        + ["--encoding", "latin-1"]
    )
    assert cli._gather_parameters(args)["data_options"] == {
        "sheet": "Orders",
        "decimal": ",",
        "dayfirst": True,
        "table": "t",
        "query": "SELECT 1",
        "thousands": ".",
        "date_format": "%d.%m.%Y",
        "encoding": "latin-1",
    }
    args = cli._parser().parse_args(
        ["report", "x", "-p", "data_options", "{'decimal': ','}", "--no-dayfirst"]
    )
    assert cli._gather_parameters(args)["data_options"] == {"decimal": ",", "dayfirst": False}
    args = cli._parser().parse_args(["report", "x", "-p", "data_options", "[1]", "--sheet", "A"])
    with pytest.raises(render.ParameterError, match="must be a mapping"):
        cli._gather_parameters(args)
    args = cli._parser().parse_args(["report", "x"])
    assert "data_options" not in cli._gather_parameters(args)


PARAMS_WITH_OPTIONS = PARAMS + "\ndata_options: dict = {}  # reader options"
LOAD_WITH_OPTIONS = LOAD.replace("column_map)", "column_map, **data_options)")
SPEND = "reports.export(tx.groupby('customer_id')['amount'].sum().to_frame(), 'spend')"
CLIENT_MAP = "customer_id=Cust,date=OrderDate,amount=Revenue"


def client_frame(cdnow_sample: pd.DataFrame, rows: int) -> pd.DataFrame:
    return cdnow_sample.head(rows).rename(
        columns={"customer_id": "Cust", "date": "OrderDate", "amount": "Revenue"}
    )[["Cust", "OrderDate", "Revenue"]]


def test_relative_data_path_is_read_from_the_working_directory(
    tmp_path, monkeypatch, capsys, cdnow_sample
):
    """Not from notebooks/, where papermill runs: a decoy of the same name lies there."""
    nb = tiny_notebook(tmp_path / "nb", [LOAD, SPEND])
    meant, decoy = client_frame(cdnow_sample, 300), client_frame(cdnow_sample, 50)
    decoy.to_csv(tmp_path / "nb" / "client.csv", index=False)
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    meant.to_csv(work / "data" / "client.csv", index=False)
    (work / "p.yaml").write_text(f"data_path: data/client.csv\ncolumn_map: {CLIENT_MAP}\n")
    monkeypatch.chdir(work)
    for how in (["--data", "data/client.csv", "--map", CLIENT_MAP], ["-f", "p.yaml"]):
        assert cli.main(["report", str(nb), *how, "--out", "out"]) == 0, capsys.readouterr().err
        folder = work / "out" / "tiny"
        spend = pd.read_csv(folder / "spend.csv")
        assert spend["amount"].sum() == pytest.approx(meant["Revenue"].sum())
        page = (folder / "tiny.html").read_text()
        assert data.sha256(work / "data" / "client.csv") in page
        assert data.sha256(tmp_path / "nb" / "client.csv") not in page
        assert str((work / "data" / "client.csv").resolve()) in page


def test_sqlite_table_and_excel_sheet_from_the_command_line(
    tmp_path, monkeypatch, capsys, cdnow_sample
):
    nb = tiny_notebook(tmp_path / "nb", [LOAD_WITH_OPTIONS, SPEND], params=PARAMS_WITH_OPTIONS)
    frame = client_frame(cdnow_sample, 200)
    monkeypatch.chdir(tmp_path)
    with sqlite3.connect(tmp_path / "shop.db") as con:
        frame.to_sql("orders", con, index=False)
        frame.head(10).to_sql("other", con, index=False)
    with pd.ExcelWriter(tmp_path / "shop.xlsx") as writer:
        frame.head(10).to_excel(writer, sheet_name="Notes", index=False)
        frame.to_excel(writer, sheet_name="Orders", index=False)
    before = {f: data.sha256(tmp_path / f) for f in ("shop.db", "shop.xlsx")}
    runs = {
        "sqlite:///shop.db": ["--table", "orders"],
        "shop.db": ["--query", "SELECT * FROM orders"],
        "shop.xlsx": ["--sheet", "Orders"],
    }
    for source, flags in runs.items():
        argv = ["report", str(nb), "--data", source, "--map", CLIENT_MAP, *flags, "--out", "r"]
        assert cli.main(argv) == 0, capsys.readouterr().err
        spend = pd.read_csv(tmp_path / "r" / "tiny" / "spend.csv")
        assert spend["amount"].sum() == pytest.approx(frame["Revenue"].sum()), source
        page = (tmp_path / "r" / "tiny" / "tiny.html").read_text()
        file = "shop.xlsx" if source.endswith("xlsx") else "shop.db"
        assert before[file] in page, source  # the file that was read is the one hashed
    assert render.resolve_data_path("sqlite:///shop.db") == f"sqlite:///{tmp_path / 'shop.db'}"
    assert before == {f: data.sha256(tmp_path / f) for f in before}


def test_resolve_data_path_leaves_urls_and_absolute_paths():
    assert render.resolve_data_path("postgresql://u@h/db", "/x") == "postgresql://u@h/db"
    assert render.resolve_data_path("sqlite://", "/x") == "sqlite://"
    assert render.resolve_data_path("sqlite:////abs/a.db", "/x") == "sqlite:////abs/a.db"
    assert render.resolve_data_path("sqlite:///a.db?mode=ro", "/x") == "sqlite:////x/a.db?mode=ro"
    assert render.resolve_data_path("duckdb:///d/a.duckdb", "/x") == "duckdb:////x/d/a.duckdb"
    assert render.resolve_data_path("/abs/a.csv", "/x") == "/abs/a.csv"
    assert render.resolve_data_path("a/../b.csv", "/x") == "/x/b.csv"
    assert render.resolve_data_path("", "/x") == ""


def test_failing_cell_fails_with_one_readable_message_and_keeps_partial_notebook(tmp_path, capsys):
    nb = tiny_notebook(
        tmp_path / "nb", ["x = 41", "if fail:\n    raise ValueError('boom on purpose')"]
    )
    out = tmp_path / "r"
    code = cli.main(["report", str(nb), "-p", "fail", "true", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "notebook 'tiny' failed in cell 4 (In [" in err
    assert "if fail:" in err and "ValueError: boom on purpose" in err
    assert "Traceback" not in err
    partial = out / "tiny" / "tiny.ipynb"
    assert partial.exists() and str(partial) in err
    executed = nbformat.read(partial, as_version=4)
    assert any(
        o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", [])
    )
    assert not (out / "tiny" / "tiny.html").exists()


def test_client_csv_with_other_column_names(tmp_path, capsys, cdnow_sample):
    client = cdnow_sample.head(300).rename(
        columns={"customer_id": "Cust", "date": "OrderDate", "amount": "Revenue"}
    )[["Cust", "OrderDate", "Revenue"]]
    client.to_csv(tmp_path / "client.csv", index=False)
    nb = tiny_notebook(
        tmp_path / "nb",
        [LOAD, "reports.export(tx.groupby('customer_id')['amount'].sum().to_frame(), 'spend')"],
    )
    out = tmp_path / "r"
    code = cli.main(
        [
            "report",
            str(nb),
            "--data",
            str(tmp_path / "client.csv"),
            "--map",
            "customer_id=Cust,date=OrderDate,amount=Revenue",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out.split()
    assert code == 0
    folder = out / "tiny"
    for name in ("tiny.ipynb", "tiny.html", "spend.csv", "spend.xlsx"):
        assert str(folder / name) in printed
    spend = pd.read_csv(folder / "spend.csv")
    assert spend["amount"].sum() == pytest.approx(client["Revenue"].sum())
    page = (folder / "tiny.html").read_text()
    assert (
        "client.csv" in page
        and render.data_source({"data_path": str(tmp_path / "client.csv")})[1] in page
    )


def test_list_shows_parameters_with_defaults_and_comments(capsys, monkeypatch, tmp_path):
    tiny_notebook(tmp_path, ["x = 1"], name="09_tiny_listed.ipynb")
    monkeypatch.setattr(parameters, "notebooks_dir", lambda: tmp_path)
    assert cli.main(["report", "--list"]) == 0
    out = capsys.readouterr().out
    assert "tiny_listed  (09_tiny_listed.ipynb)" in out
    assert "margin" in out and "0.3" in out and "gross margin" in out
    assert "rows to show" in out  # comment of a parameter a formatter wrapped


def test_unknown_notebook_names_the_available_ones(capsys, monkeypatch, tmp_path):
    tiny_notebook(tmp_path, ["x = 1"], name="09_tiny_listed.ipynb")
    monkeypatch.setattr(parameters, "notebooks_dir", lambda: tmp_path)
    assert cli.main(["report", "nope"]) == 2
    assert "no notebook called 'nope'; choose one of: tiny_listed" in capsys.readouterr().err


def test_pdf_without_chromium_says_how_to_enable_it(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    (tmp_path / "x.html").write_text("<html></html>")
    with pytest.raises(render.ReportError, match="apt-get install chromium"):
        render.print_pdf(tmp_path / "x.html")


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("crmlab")
    result = subprocess.run([exe, "report", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--map" in result.stdout and "--all" in result.stdout


def test_render_all_writes_an_index_and_lists_what_failed(tmp_path):
    folder = tmp_path / "nb"
    tiny_notebook(folder, [LOAD, "reports.export(tx.head(3), 'first_rows')"], "01_good.ipynb")
    tiny_notebook(folder, ["raise ValueError('broken on purpose')"], "02_broken.ipynb")
    reports, index = render.render_all(tmp_path / "out", folder=folder, workers=2)
    by_name = {r.name: r for r in reports}
    assert not by_name["good"].error and by_name["good"].html.exists()
    assert "broken on purpose" in by_name["broken"].error
    page = index.read_text()
    assert 'href="good/good.html"' in page and 'href="good/first_rows.csv"' in page
    assert 'href="good/good-tables.xlsx"' in page and 'href="good/good.ipynb"' in page
    assert "failed" in page and "broken on purpose" in page


def test_engine_flags_set_the_engine_parameters():
    args = cli._parser().parse_args(
        ["report", "customer_lifetime_value", "--data", "orders/*.parquet", "--engine", "spark"]
        + ["--spark-master", "spark://host:7077", "--table", "orders"]
    )
    params = cli._gather_parameters(args)
    assert params["engine"] == "spark" and params["spark_master"] == "spark://host:7077"
    assert params["data_options"] == {"table": "orders"}
    plain = cli._gather_parameters(cli._parser().parse_args(["report", "x", "--data", "a.csv"]))
    assert "engine" not in plain and "spark_master" not in plain
    assert {"engine", "spark_master"} <= set(parameters.DATA_PARAMETERS)  # not assumptions
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["report", "x", "--engine", "polars"])


def test_engine_on_a_notebook_without_it_is_an_unknown_parameter(tmp_path, capsys):
    nb = tiny_notebook(tmp_path / "nb", ["x = 1"])
    code = cli.main(["report", str(nb), "--engine", "duckdb", "--out", str(tmp_path / "r")])
    assert code == 2 and "unknown parameter 'engine'" in capsys.readouterr().err
