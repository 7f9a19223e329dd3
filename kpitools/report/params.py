"""Report template parameters: read them from the template and check values before a run.

papermill only *warns* about a misspelt parameter and runs with the default, and it injects a
wrong type as is (``-p trailing_quarters abc``) so the notebook fails deep inside a cell. kpitools
checks names and types against the template's tagged ``parameters`` cell first, using the type
annotations and trailing ``# comments`` that :func:`papermill.inspect_notebook` reads::

    client_dir: str = "data/sample/cloudledger"  # client folder holding client.yml
    trailing_quarters: int = 4                    # quarters shown in trend charts
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpitools._errors import ArgumentError, KpitoolsError, did_you_mean

__all__ = ["TemplateParameter", "template_parameters", "validate_parameters"]

_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
_NONE = frozenset({"none", "null", ""})
_OPTIONAL = re.compile(r"^(?:Optional\[(?P<a>.+)\]|(?P<b>.+?)\s*\|\s*None|None\s*\|\s*(?P<c>.+))$")


@dataclass(frozen=True)
class TemplateParameter:
    """One parameter of a template's ``parameters`` cell.

    ``type`` is the annotation as written (``"str"``, ``"int"``, ``"float | None"``) or
    ``"any"`` when the template did not annotate it; ``default`` is the default's source text.
    """

    name: str
    type: str
    default: str
    help: str


def template_parameters(template: str | os.PathLike[str]) -> dict[str, TemplateParameter]:
    """The parameters declared in ``template``'s cell tagged ``parameters``, in order.

    Raises :class:`KpitoolsError` when the file is missing or has no tagged parameters cell.
    """
    from kpitools.report._imports import lean_papermill

    lean_papermill()
    import papermill

    path = Path(template)
    if not path.is_file():
        raise ArgumentError(
            f"Template {path} not found. Hint: run `kpitools templates` to list the templates."
        )
    _check_notebook(path)
    raw = _inspect(path, papermill)
    if not raw:
        raise KpitoolsError(
            f"Template {path} has no cell tagged 'parameters' (or the cell is empty).\n"
            "Hint: tag the cell holding the defaults with `parameters` "
            "(JupyterLab: Property Inspector → Cell Tags)."
        )
    params = {
        name: TemplateParameter(
            name=name,
            type=_type_name(info.get("inferred_type_name")),
            default=str(info.get("default")),
            help=str(info.get("help") or ""),
        )
        for name, info in raw.items()
    }
    # papermill's line pattern skips annotations it cannot read (``int | None``); the cell's
    # syntax tree still knows them, so they are neither lost nor reported as unknown.
    for name, annotation, default in _assignments(path):
        if name not in params:
            params[name] = TemplateParameter(name, annotation, default, "")
    return params


def _check_notebook(path: Path) -> None:
    """Refuse a file that is not a Jupyter notebook, without quoting any of its content."""
    import nbformat

    try:
        nbformat.read(os.fspath(path), as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError, nbformat.ValidationError) as exc:
        why = ("its text is not notebook JSON" if isinstance(exc, ValueError)
               else "its JSON is not a notebook's")
        raise ArgumentError(
            f"Template {path} is not a Jupyter notebook ({why}). Hint: --template takes an "
            ".ipynb file; run `kpitools templates` to list the templates."
        ) from None


def _assignments(path: Path) -> list[tuple[str, str, str]]:
    import ast

    import nbformat

    nb = nbformat.read(os.fspath(path), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return []
    found = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            default = ast.unparse(node.value) if node.value is not None else ""
            found.append((node.target.id, ast.unparse(node.annotation), default))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            found.append((node.targets[0].id, "any", ast.unparse(node.value)))
    return found


def _inspect(path: Path, papermill: Any) -> dict[str, dict[str, Any]]:
    """papermill.inspect_notebook, also for notebooks saved without kernel metadata.

    papermill needs a kernel name to pick its parameter parser; kpitools always runs templates
    with the ``python3`` kernel, so a template without one is read as Python.
    """
    import nbformat

    nb = nbformat.read(os.fspath(path), as_version=4)
    if nb.metadata.get("kernelspec", {}).get("name"):
        return papermill.inspect_notebook(os.fspath(path))
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    with tempfile.TemporaryDirectory(prefix="kpitools-inspect-") as folder:
        copy = Path(folder) / path.name
        nbformat.write(nb, os.fspath(copy))
        return papermill.inspect_notebook(os.fspath(copy))


def _type_name(inferred: str | None) -> str:
    if not inferred or inferred in {"None", "Unknown type"}:
        return "any"
    return inferred.strip()


def validate_parameters(
    template: str | os.PathLike[str], params: dict[str, Any]
) -> dict[str, Any]:
    """Check ``params`` against ``template`` and return them converted to the declared types.

    Conversions (text comes from the command line): ``"3"`` → 3 for ``int``; ``"0.25"`` → 0.25
    for ``float``; ``"true"/"false"`` (also yes/no, 1/0, on/off) for ``bool``; ``"none"`` → None
    for an optional type (``int | None``). A comma-separated string becomes a list for a
    ``list[...]`` parameter. Unannotated parameters are passed through unchanged.

    Raises :class:`ArgumentError` (a :class:`KpitoolsError`; the CLI exits with 2, as for
    any bad option) listing every unknown name (with the closest known name) and every value of
    the wrong type, in one message.

    Examples
    --------
    >>> import nbformat, tempfile, os
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "quarter: str = '2024Q4'  # quarter to report\\ntrailing_quarters: int = 4",
    ...     metadata={"tags": ["parameters"]})])
    >>> path = os.path.join(tempfile.mkdtemp(), "t.ipynb"); nbformat.write(nb, path)
    >>> validate_parameters(path, {"trailing_quarters": "6"})
    {'trailing_quarters': 6}
    """
    declared = template_parameters(template)
    problems: list[str] = []
    hints: list[str] = []
    out: dict[str, Any] = {}
    for name, value in params.items():
        spec = declared.get(name)
        if spec is None:
            guess = did_you_mean(name, list(declared))
            problems.append(f"unknown parameter '{name}'" + (f" (did you mean '{guess}'?)"
                                                             if guess else ""))
            continue
        try:
            out[name] = _coerce(value, spec.type)
        except (TypeError, ValueError):
            problems.append(f"parameter '{name}' expects {spec.type}, got {value!r}")
            if spec.type == "bool":
                hints.append("write booleans as true/false.")
    if problems:
        known = ", ".join(f"{p.name} ({p.type})" for p in declared.values())
        raise ArgumentError(
            f"{Path(template).name}: {len(problems)} parameter problem"
            f"{'s' if len(problems) > 1 else ''}:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\nHint: the template's parameters are {known}; "
            + " ".join(dict.fromkeys(hints))
            + "run `kpitools templates` for their help."
        )
    return out


def _coerce(value: Any, type_name: str) -> Any:
    """Convert ``value`` to ``type_name`` or raise ValueError/TypeError."""
    optional = _OPTIONAL.match(type_name)
    if optional:
        if value is None or (isinstance(value, str) and value.strip().lower() in _NONE):
            return None
        type_name = next(g for g in optional.groups() if g).strip()
    if type_name == "any":
        return value
    if type_name == "str":
        if not isinstance(value, str):
            raise TypeError(type_name)
        return value
    if type_name == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError(type_name)
    if type_name == "int":
        if isinstance(value, bool):
            raise TypeError(type_name)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        raise ValueError(type_name)
    if type_name == "float":
        if isinstance(value, bool):
            raise TypeError(type_name)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            return float(value)
        raise ValueError(type_name)
    if type_name.startswith(("list", "List")):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return list(value)
        raise TypeError(type_name)
    return value  # an annotation kpitools does not know (dict, a class): trust the template
