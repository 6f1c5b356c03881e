"""A notebook's parameters: read from its ``parameters`` cell, checked before anything runs.

papermill only *warns* about unknown names and injects values as given; here every
name is checked against the cell and every value converted to the declared type
(``"0.3"`` -> 0.3) or refused with the list of valid parameters. Parameter files are
plain YAML read safely (size limit, no tags, no aliases).
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from crmlab.report.errors import ParameterError, ReportError
from crmlab.report.names import PARAMETERS_TAG
from crmlab.report.resources import bundled

_NAME = re.compile(r"^(\d+)_(.+)\.ipynb$")
DATA_PARAMETERS = (
    "dataset",
    "data_path",
    "column_map",
    "data_options",
    "engine",
    "spark_master",
)
"""Parameters that say where the data come from and who reads them (described in words,
not as assumptions)."""
ENGINE_PARAMETERS = {"engine": "engine", "spark_master": "spark_master"}
"""``crmlab report`` flag (argparse name) -> notebook parameter naming who reads the data."""


def notebooks_dir() -> Path:
    """The bundled notebooks folder (package data ``crmlab.notebooks``)."""
    return bundled("notebooks")


def list_notebooks(folder: str | Path | None = None) -> dict[str, Path]:
    """Notebooks ``NN_name.ipynb`` of ``folder`` by name (``customer_lifetime_value``)."""
    folder = Path(folder) if folder else notebooks_dir()
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        match = _NAME.match(path.name)
        if match:
            found[match.group(2)] = path
    return found


def notebook_name(path: str | Path) -> str:
    """``04_customer_lifetime_value.ipynb`` -> ``customer_lifetime_value``."""
    path = Path(path)
    match = _NAME.match(path.name)
    return match.group(2) if match else path.stem


def find_notebook(name: str, folder: str | Path | None = None) -> Path:
    """The notebook called ``name`` (without number and extension), or a path to one."""
    candidate = Path(name)
    if candidate.suffix == ".ipynb" and candidate.exists():
        return candidate
    available = list_notebooks(folder)
    if name in available:
        return available[name]
    raise ReportError(
        f"no notebook called {name!r}; choose one of: {', '.join(available) or '(none)'} "
        "(`crmlab report --list` shows them with their parameters)."
    )


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's ``parameters`` cell."""

    name: str
    type: str
    default: Any
    help: str


def notebook_number(path: str | Path) -> str:
    """``04_customer_lifetime_value.ipynb`` -> ``"04"`` ("" without a number)."""
    match = _NAME.match(Path(path).name)
    return match.group(1) if match else ""


def _parameters_cell(nb: nbformat.NotebookNode) -> str:
    for cell in nb.cells:
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.metadata.get("tags", []):
            return cell.source
    return ""


def notebook_parameters(path: str | Path) -> dict[str, Parameter]:
    """The notebook's parameters: name, declared type, literal default, comment.

    Read with :mod:`ast` from the cell tagged ``parameters`` (papermill's
    ``inspect_notebook`` drops lines whose comment contains ``=``, such as
    ``column_map: str = ""  # e.g. customer_id=Cust``). Each parameter must be
    a literal; the type is the annotation, else the default's type.
    """
    source = _parameters_cell(nbformat.read(path, as_version=4))
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ReportError(
            f"{Path(path).name}: the parameters cell is not valid Python: {exc}"
        ) from None
    lines = source.splitlines()
    out: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value, note = node.target.id, node.value, ast.unparse(node.annotation)
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, value, note = node.targets[0].id, node.value, ""
        else:
            continue
        try:
            default = ast.literal_eval(value) if value is not None else None
        except ValueError:
            raise ReportError(
                f"{Path(path).name}: parameter {name!r} is not a literal "
                f"({ast.unparse(value)}); papermill cannot override derived values."
            ) from None
        kind = note.split("[")[0] if note else type(default).__name__
        span = lines[node.lineno - 1 : node.end_lineno]  # a formatter may wrap long lines
        comment = next((c for c in map(_comment, span) if c), "")
        out[name] = Parameter(name, kind, default, comment)
    return out


def _comment(line: str) -> str:
    """The ``# comment`` of a line of code (tokenised, so ``"#"`` in strings is kept)."""
    import io
    import tokenize

    try:
        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type == tokenize.COMMENT:
                return tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        return ""
    return ""


def describe_parameters(path: str | Path) -> str:
    """Readable listing of a notebook's parameters: name, type, default and comment."""
    params = notebook_parameters(path)
    if not params:
        return "    (no parameters cell)"
    width = max(len(p.name) for p in params.values())
    lines = []
    for p in params.values():
        lines.append(f"    {p.name:<{width}}  {p.type:<5}  = {p.default!r:<12}  {p.help}")
    return "\n".join(lines)


MAX_PARAMETERS_FILE_BYTES = 1_000_000
MAX_VALUE_CHARS = 100_000  # longest text a parameter may hold (a column map, an SQL query)
MAX_VALUE_ITEMS = 10_000  # most items (nested, counted) in a list or mapping parameter
MAX_VALUE_DEPTH = 10


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters, built without the full repr.

    A 10 MB string becomes its first ``limit`` characters and ``... (N characters)``;
    nested containers are shown a few items and levels deep (:mod:`reprlib`), so a
    value made to exhaust memory cannot do so in an error message.
    """
    import reprlib

    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict = 3, 6, 6, 6
    short.maxstring = short.maxother = short.maxlong = limit
    text = short.repr(value)
    return text if len(text) <= 2 * limit else text[: 2 * limit] + "..."


def _check_value(name: str, value: Any) -> None:
    """Refuse parameter values of an unexpected type or size before anything formats them."""
    stack = [(value, 0)]
    items = 0
    while stack:
        item, depth = stack.pop()
        items += 1
        if items > MAX_VALUE_ITEMS or depth > MAX_VALUE_DEPTH:
            raise ParameterError(
                f"parameter {short_repr(name)} is too large: at most {MAX_VALUE_ITEMS:,} items "
                f"nested {MAX_VALUE_DEPTH} levels deep."
            )
        if isinstance(item, str):
            if len(item) > MAX_VALUE_CHARS:
                raise ParameterError(
                    f"parameter {short_repr(name)} is too long: {short_repr(item)}; "
                    f"at most {MAX_VALUE_CHARS:,} characters."
                )
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif not isinstance(item, bool | int | float | dt.date | type(None)):
            raise ParameterError(
                f"parameter {short_repr(name)} holds a {type(item).__name__}; parameters are "
                "text, numbers, true/false, lists and mappings."
            )


def literal_parameter(name: str, text: str) -> Any:
    """A list or mapping parameter written as Python/JSON text (``"{'sheet': 'Orders'}"``)."""
    _check_value(name, text)
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, RecursionError, MemoryError, TypeError):
        raise ParameterError(
            f"parameter {short_repr(name)}: {short_repr(text)} is not a literal list or "
            "mapping, e.g. \"{'sheet': 'Orders'}\" or \"[0.01, 0.04]\"."
        ) from None


def load_parameters_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML parameters file safely: ``name: value`` per line.

    At most :data:`MAX_PARAMETERS_FILE_BYTES`; plain YAML only (no ``!!python`` or
    other tags: the safe loader); aliases (``*name``) are refused, so a few hundred
    bytes cannot expand into billions of values. A syntax error becomes a
    :class:`ParameterError` naming the line and column.
    """
    import yaml

    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_PARAMETERS_FILE_BYTES:
            raise ParameterError(
                f"parameters file {path} has {size:,} bytes; at most "
                f"{MAX_PARAMETERS_FILE_BYTES:,} are read (parameters are short values)."
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"cannot read parameters file {path}: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise ParameterError(
            f"parameters file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                mark = event.start_mark
                raise ParameterError(
                    f"parameters file {path}, line {mark.line + 1}, column {mark.column + 1}: "
                    f"YAML aliases (*{event.anchor}) are not allowed; write the value out."
                )
            return super().compose_node(parent, index)

    try:
        loaded = yaml.load(text, Loader=Loader)  # a SafeLoader that refuses aliases
    except yaml.MarkedYAMLError as exc:
        mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = short_repr(str(exc.problem or exc.context or "invalid YAML"), 200)[1:-1]
        if exc.context and context and exc.problem:
            problem += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
        hint = (
            " Only plain values are allowed (text, numbers, true/false, lists, mappings)."
            if isinstance(exc, yaml.constructor.ConstructorError)
            else ""
        )
        raise ParameterError(f"parameters file {path}{where}: {problem}.{hint}") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"parameters file {path}: {short_repr(str(exc), 200)}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParameterError(
            f"parameters file {path} must be a mapping 'name: value', got {type(loaded).__name__}."
        )
    bad = [k for k in loaded if not isinstance(k, str)]
    if bad:
        raise ParameterError(
            f"parameters file {path}: parameter names are text, got {short_repr(bad[0])}."
        )
    return loaded


_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def _coerce(value: Any, param: Parameter) -> Any:
    """``value`` converted to the parameter's declared type, or ReportError."""
    kind = param.type
    _check_value(param.name, value)
    bad = ParameterError(
        f"parameter {param.name!r} expects {kind} (default {short_repr(param.default)}), "
        f"got {short_repr(value)}."
    )
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, dt.date):  # YAML reads 1998-06-30 unquoted as a date
            return value.isoformat()
        raise bad
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise bad
    if kind == "int":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise bad from None
        raise bad
    if kind == "float":
        if isinstance(value, bool):
            raise bad
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise bad from None
        if not isinstance(value, int | float):
            raise bad
        if not math.isfinite(value):
            raise ParameterError(
                f"parameter {param.name!r} expects a finite number, got {short_repr(value)}."
            )
        return float(value)
    if kind in ("list", "dict", "tuple"):
        if isinstance(value, str):
            try:
                value = literal_parameter(param.name, value)
            except ParameterError:
                raise bad from None
        if type(value).__name__ != kind and not (kind == "tuple" and isinstance(value, list)):
            raise bad
        return value
    return value


def check_parameters(path: str | Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``parameters`` against the notebook before anything runs.

    Unknown names and values that cannot be read as the declared type raise
    :class:`ReportError` listing the valid parameters. Strings from the command
    line are converted (``"0.3"`` -> 0.3 for a float parameter).

    Returns
    -------
    dict
        The given parameters, converted to their declared types.
    """
    declared = notebook_parameters(path)
    unknown = [k for k in parameters if k not in declared]
    if unknown:
        raise ParameterError(
            f"{Path(path).name}: unknown parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(short_repr, unknown[:5]))}"
            f"{f' and {len(unknown) - 5} more' if len(unknown) > 5 else ''}. "
            f"Valid parameters:\n{describe_parameters(path)}"
        )
    converted = {}
    for key, value in parameters.items():
        try:
            converted[key] = _coerce(value, declared[key])
        except ParameterError as exc:
            raise ParameterError(
                f"{Path(path).name}: {exc} Valid parameters:\n{describe_parameters(path)}"
            ) from None
    return converted
