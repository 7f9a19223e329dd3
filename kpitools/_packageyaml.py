"""Parse kpitools' own YAML files (catalog, texts, labels, presets) quickly.

These files ship with the package and are trusted, but they are read in every kernel, report
and workshop page: PyYAML's pure-Python parser spends about half a second of CPU on them in
all, libyaml's a tenth of that. Both build the same safe types (SafeConstructor). Files from a
client folder never come here: they go through :mod:`kpitools.io._yaml`, which also refuses
anchors, aliases and repeated keys.
"""

from __future__ import annotations

from typing import IO, Any

import yaml

__all__ = ["package_yaml"]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def package_yaml(source: str | bytes | IO[str]) -> Any:
    """The data of one of the package's YAML texts (or open files).

    >>> package_yaml("a: [1, 2.5, 'x']")
    {'a': [1, 2.5, 'x']}
    """
    return yaml.load(source, Loader=_LOADER)
