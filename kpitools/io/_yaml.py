"""YAML from client folders (client.yml, goals.yaml): safe types only, no anchors or aliases.

``yaml.safe_load`` already refuses Python objects, but it expands aliases: nine nested levels of
``&a [*b, *b, …]`` turn a few hundred bytes into billions of list items, and anything that later
prints the value (a client name) hangs. A client.yml never needs an alias, so
:func:`load_client_yaml` refuses every anchor and alias with the line where it appears, and
files larger than :data:`MAX_CLIENT_YAML_BYTES`; a key set twice in one mapping (which PyYAML
resolves silently to the last value) is refused too.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from kpitools._errors import KpitoolsError

__all__ = ["MAX_CLIENT_YAML_BYTES", "ClientYamlError", "load_client_yaml", "parse_client_yaml"]

#: Largest client.yml / goals.yaml read (a real one is a few kilobytes).
MAX_CLIENT_YAML_BYTES = 1024 * 1024


class ClientYamlError(KpitoolsError):
    """A client YAML file that is not plain YAML (syntax error, anchor/alias, too large)."""

    def __init__(
        self, message: str, line: int | None = None, hint: str | None = None, detail: str = ""
    ) -> None:
        where = f" (line {line})" if line is not None else ""
        #: The problem in one line, without the hint: "uses the YAML alias *a (line 3)".
        self.problem = f"{message}{where}{': ' + detail if detail else ''}"
        self.line = line
        self.hint = hint
        super().__init__(self.problem + (f"\nHint: {hint}" if hint else ""))


_ALIAS_HINT = (
    "anchors (&name) and aliases (*name) are not allowed in client files; "
    "write each value out in full."
)


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that stops at the first anchor or alias instead of expanding it."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise ClientYamlError(
                f"uses the YAML alias *{event.anchor}", event.start_mark.line + 1, _ALIAS_HINT
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise ClientYamlError(
                f"uses the YAML anchor &{anchor}", event.start_mark.line + 1, _ALIAS_HINT
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        # A repeated key silently replaces the first value in PyYAML; say so instead.
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise ClientYamlError(
                    f"sets '{key}' twice in the same block",
                    key_node.start_mark.line + 1,
                    "keep one of the two lines; YAML would silently use the last one.",
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_client_yaml(text: str) -> object:
    """Parse YAML text from a client folder; raise :class:`ClientYamlError` when it is unsafe.

    >>> parse_client_yaml("name: Demo")
    {'name': 'Demo'}
    >>> parse_client_yaml("a: &x [1]\\nb: *x")
    Traceback (most recent call last):
    ...
    kpitools.io._yaml.ClientYamlError: uses the YAML anchor &x (line 1)
    Hint: anchors (&name) and aliases (*name) are not allowed in client files; write each value out in full.
    """  # noqa: E501
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass: safe types only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ClientYamlError(
            "is not valid YAML",
            mark.line + 1 if mark is not None else None,
            "check indentation and quotes; save the file as UTF-8.",
            detail=str(getattr(exc, "problem", None) or exc),
        ) from None


def load_client_yaml(path: str | os.PathLike[str]) -> object:
    """Read and parse a client YAML file (UTF-8, at most :data:`MAX_CLIENT_YAML_BYTES`)."""
    with Path(path).open("rb") as handle:
        data = handle.read(MAX_CLIENT_YAML_BYTES + 1)  # never more, whatever the file is
    if len(data) > MAX_CLIENT_YAML_BYTES:
        raise ClientYamlError(
            f"is larger than {MAX_CLIENT_YAML_BYTES:,} bytes, too large for a client file",
            hint="client.yml holds settings only; put the data in the table files it names.",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ClientYamlError(
            f"is not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8."
        ) from None
    return parse_client_yaml(text)
