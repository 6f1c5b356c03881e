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
    crmlab report customer_lifetime_value -f params.yaml --format pdf
    crmlab report --all --out reports
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from crmlab.errors import DataError


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
    rep.add_argument("--out", default="reports", help="reports folder (default: reports/)")
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
        choices=["html", "pdf", "ipynb"],
        help="output format (repeatable; default html; the executed notebook is always kept)",
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
    from crmlab import render

    params: dict[str, Any] = {}
    if args.parameters_file:
        params.update(render.load_parameters_file(args.parameters_file))
    for flag, key in (("dataset", "dataset"), ("data", "data_path"), ("map", "column_map")):
        value = getattr(args, flag)
        if value is not None:
            params[key] = value
    for key, value in args.parameter:
        params[key] = value
    options = {k: getattr(args, k) for k in DATA_OPTION_FLAGS if getattr(args, k) is not None}
    if options:
        given = params.get("data_options", {})
        if isinstance(given, str):
            given = render.literal_parameter("data_options", given)
        if not isinstance(given, dict):
            raise render.ParameterError(
                f"parameter 'data_options' must be a mapping such as {{'sheet': 'Orders'}}, "
                f"got {render.short_repr(given)}."
            )
        params["data_options"] = {**given, **options}
    return params


def _report(args: argparse.Namespace) -> int:
    from crmlab import render

    formats = tuple(args.format or ["html"])
    if args.list:
        for name, path in render.list_notebooks().items():
            print(f"{name}  ({path.name})")
            print(render.describe_parameters(path))
            print()
        return 0
    if args.all:
        if args.name:
            raise DataError("give either a notebook NAME or --all, not both.")
        start = time.perf_counter()
        reports, index = render.render_all(args.out, formats=formats)
        failed = [r for r in reports if r.error and not r.waiting]
        waiting = [r for r in reports if r.waiting]
        for rep in reports:
            if rep.waiting:
                print(f"NOT AVAILABLE YET {rep.name}: {rep.error}", file=sys.stderr)
            elif rep.error:
                print(f"FAILED {rep.name}: {rep.error}", file=sys.stderr)
            else:
                for path in rep.files:
                    print(path)
        print(index)
        print(
            f"{len(reports) - len(failed) - len(waiting)} of {len(reports)} reports rendered in "
            f"{time.perf_counter() - start:.1f} s"
            + (f"; {len(waiting)} wait for crmlab features not available yet" if waiting else ""),
            file=sys.stderr,
        )
        return 1 if failed else 0
    if not args.name:
        raise DataError("name a notebook (see `crmlab report --list`) or use --all.")
    params = _gather_parameters(args)
    report = render.render_report(
        args.name,
        params,
        args.out,
        formats=formats,
        progress=sys.stderr.isatty(),
        inputs={"parameters file": args.parameters_file} if args.parameters_file else None,
        lock_timeout=args.wait,
    )
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
        from crmlab.render import ExecutionError

        print(f"crmlab: error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, ExecutionError) else 2
    return 0  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
