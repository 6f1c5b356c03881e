"""The ``crmlab`` command line.

``crmlab report NAME`` executes ``notebooks/NN_NAME.ipynb`` with papermill and
renders a report without code into ``reports/NAME/``, plus the tables behind it
(CSV and Excel); ``crmlab report --all`` renders every notebook and an index;
``crmlab report --list`` shows the notebooks with their parameters.

Examples
--------
::

    crmlab report customer_lifetime_value
    crmlab report customer_lifetime_value --data sales.csv \\
        --map customer_id=Cust,date=OrderDate,amount=Revenue -p margin 0.25
    crmlab report customer_lifetime_value --data orders.xlsx --sheet Orders \\
        --decimal , --dayfirst
    crmlab report customer_lifetime_value --data sqlite:///shop.db --table orders
    crmlab report customer_lifetime_value --data 'orders/*.parquet' \\
        --map customer_id=Cust,date=Day,amount=Sales
    crmlab report customer_lifetime_value --data duckdb:///shop.duckdb --table orders
    crmlab report customer_lifetime_value --data 'orders/*.parquet' --engine spark \\
        --spark-master spark://host:7077
    crmlab report customer_lifetime_value -f params.yaml --format html,pdf
    crmlab report customer_value_tiers --edition client --client "Acme Records" \\
        --prepared-by "Jo Analyst" --format html,pdf
    crmlab report customer_value_tiers --solutions
    crmlab report --all --out reports
    crmlab report --all --edition client --client "Acme Records" --format html,pdf
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from crmlab.errors import DataError
from crmlab.report.names import EDITIONS, TEACHING


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmlab", description="crmlab: CRM analytics reports from Jupyter notebooks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "report",
        help="execute a notebook and render its report",
        description=(
            "Execute a notebook with papermill and render a report without code cells, "
            "with the tables behind it as CSV and Excel. NAME is the notebook's file name "
            "without number and extension, e.g. customer_lifetime_value."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rep.add_argument("name", nargs="?", help="notebook name, e.g. customer_lifetime_value")
    rep.add_argument("--all", action="store_true", help="render every notebook and index.html")
    rep.add_argument("--list", action="store_true", help="list notebooks and their parameters")
    rep.add_argument("--dataset", help="bundled dataset (sets the parameter `dataset`)")
    rep.add_argument("--data", help="a client's data file or SQL URL (sets `data_path`)")
    rep.add_argument(
        "--map",
        help="the client's column names (sets `column_map`), "
        "e.g. customer_id=Cust,date=OrderDate,amount=Revenue",
    )
    src = rep.add_argument_group(
        "reading the data (fill the parameter `data_options`)",
        "A relative --data path, or sqlite:///file.db, is read from the current directory.",
    )
    src.add_argument("--sheet", help="Excel sheet name (default: the first sheet)")
    src.add_argument("--table", help="table of a SQLite/DuckDB file or SQL database")
    src.add_argument("--query", help="a SELECT query instead of --table")
    src.add_argument("--decimal", help="decimal mark of amounts: '.' or ','")
    src.add_argument("--thousands", help="thousands separator of amounts, e.g. '.' or ' '")
    src.add_argument(
        "--dayfirst",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="dates are day first (31/12/2024); --no-dayfirst: month first",
    )
    src.add_argument("--date-format", help="strftime format of the dates, e.g. %%d.%%m.%%Y")
    src.add_argument("--encoding", help="text encoding of a CSV file, e.g. latin-1")
    eng = rep.add_argument_group(
        "data larger than memory (set the parameters `engine` and `spark_master`)",
        "By default (auto) a Parquet folder or glob, a DuckDB file and a server SQL URL are "
        "summarised and scored inside DuckDB or the database, and only per-customer and "
        "aggregate tables reach pandas; single files, SQLite and bundled datasets are read "
        "into pandas.",
    )
    eng.add_argument(
        "--engine",
        choices=("auto", "pandas", "duckdb", "spark"),
        help="who reads --data: auto (default), pandas, duckdb, or spark (summary and scoring "
        "on Spark)",
    )
    eng.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master for --engine spark, e.g. spark://host:7077 or yarn "
        "(default: $SPARK_MASTER, else local[*])",
    )
    rep.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="set a notebook parameter (repeatable); values are read as the declared type",
    )
    rep.add_argument("-f", "--parameters-file", help="YAML file of parameters")
    rep.add_argument(
        "--out",
        default="reports",
        help="reports folder, relative to the working directory (default: ./reports)",
    )
    rep.add_argument(
        "--edition",
        choices=list(EDITIONS),
        default=TEACHING,
        help="teaching (default: exercises, asides, the executed notebook) or client "
        "(plain-words summary and actions, no code or exercises, title block, method "
        "appendix) into NAME-client/",
    )
    rep.add_argument(
        "--client", default="", help="client's name (client edition title, PDF footer)"
    )
    rep.add_argument("--prepared-by", default="", help="who prepared the client edition")
    rep.add_argument(
        "--solutions",
        action="store_true",
        help="instructor edition: worked solutions of the exercises, into NAME-instructor/ "
        "(one notebook with exercises; not with --all or --edition client)",
    )
    rep.add_argument(
        "--wait",
        type=float,
        default=3600,
        metavar="SECONDS",
        help="how long to wait for another run writing the same report (default 3600)",
    )
    rep.add_argument(
        "--format",
        action="append",
        metavar="FORMAT",
        help="html, pdf, ipynb: repeatable or comma-separated, e.g. --format html,pdf "
        "(default html; the executed notebook is always kept)",
    )
    return parser


DATA_OPTION_FLAGS = (
    "sheet",
    "table",
    "query",
    "decimal",
    "thousands",
    "dayfirst",
    "date_format",
    "encoding",
)


def _gather_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """Notebook parameters from the parameters file, then the flags, then ``-p`` pairs.

    The reading flags (``--sheet``, ``--table`` ...) are merged into the mapping
    ``data_options`` (over one given in the file or with ``-p data_options``).
    """
    from crmlab import report as reporting
    from crmlab.report.parameters import ENGINE_PARAMETERS

    params: dict[str, Any] = {}
    if args.parameters_file:
        params.update(reporting.load_parameters_file(args.parameters_file))
    flags = {"dataset": "dataset", "data": "data_path", "map": "column_map"}
    for flag, key in {**flags, **ENGINE_PARAMETERS}.items():
        value = getattr(args, flag)
        if value is not None:
            params[key] = value
    for key, value in args.parameter:
        params[key] = value
    options = {k: getattr(args, k) for k in DATA_OPTION_FLAGS if getattr(args, k) is not None}
    if options:
        given = params.get("data_options", {})
        if isinstance(given, str):
            given = reporting.literal_parameter("data_options", given)
        if not isinstance(given, dict):
            raise reporting.ParameterError(
                f"parameter 'data_options' must be a mapping such as {{'sheet': 'Orders'}}, "
                f"got {reporting.short_repr(given)}."
            )
        params["data_options"] = {**given, **options}
    return params


def parse_formats(given: list[str] | None) -> tuple[str, ...]:
    """``--format`` values, repeated and/or comma-separated, checked; default ``("html",)``."""
    from crmlab.report import FORMATS, ReportError

    formats = [f.strip().lower() for value in given or ["html"] for f in value.split(",")]
    formats = [f for f in formats if f]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ReportError(
            f"unknown format {bad[0] if bad else '(none)'!r}; choose from {', '.join(FORMATS)} "
            "(repeat --format or separate with commas: --format html,pdf)."
        )
    return tuple(dict.fromkeys(formats))


def _print_notes(report: Any) -> None:
    for note in report.notes:
        print(f"crmlab: note: {report.name}: {note}", file=sys.stderr)


def _report(args: argparse.Namespace) -> int:
    from crmlab import report as reporting

    formats = parse_formats(args.format)
    edition_options = {
        "edition": args.edition,
        "client": args.client,
        "prepared_by": args.prepared_by,
    }
    if args.list:
        for name, path in reporting.list_notebooks().items():
            print(f"{name}  ({path.name})")
            print(reporting.describe_parameters(path))
            print()
        return 0
    if args.all:
        if args.name:
            raise DataError("give either a notebook NAME or --all, not both.")
        if args.solutions:
            raise DataError(
                "--solutions makes the instructor edition of one notebook with exercises; "
                "name the notebook instead of --all (e.g. crmlab report customer_value_tiers "
                "--solutions)."
            )
        start = time.perf_counter()
        reports, index = reporting.render_all(args.out, formats=formats, **edition_options)
        failed = [r for r in reports if r.error]
        for rep in reports:
            if rep.error:
                print(f"FAILED {rep.name}: {rep.error}", file=sys.stderr)
            else:
                _print_notes(rep)
                for path in rep.files:
                    print(path)
        print(index)
        print(
            f"{len(reports) - len(failed)} of {len(reports)} reports rendered in "
            f"{time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        return 1 if failed else 0
    if not args.name:
        raise DataError("name a notebook (see `crmlab report --list`) or use --all.")
    params = _gather_parameters(args)
    report = reporting.render_report(
        args.name,
        params,
        args.out,
        formats=formats,
        solutions=args.solutions,
        **edition_options,
        progress=sys.stderr.isatty(),
        inputs={"parameters file": args.parameters_file} if args.parameters_file else None,
        lock_timeout=args.wait,
    )
    _print_notes(report)
    for path in report.files:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crmlab`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "report":
            return _report(args)
    except DataError as exc:
        from crmlab.report import ExecutionError

        print(f"crmlab: error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, ExecutionError) else 2
    return 0  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
