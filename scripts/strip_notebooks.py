"""Remove outputs and execution counts from notebooks, keeping cell tags (e.g. ``parameters``).

Usage: ``python scripts/strip_notebooks.py NOTEBOOK...`` — rewrites only notebooks that change and
exits 1 when it changed any, so a pre-commit hook stops the commit for a second look.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def strip(path: Path) -> bool:
    """Strip one notebook in place; return True when the file changed."""
    original = path.read_text(encoding="utf-8")
    nb = json.loads(original)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        metadata = cell.get("metadata", {})
        for key in ("execution", "collapsed", "scrolled"):
            metadata.pop(key, None)
    nb.get("metadata", {}).pop("widgets", None)
    text = json.dumps(nb, ensure_ascii=False, indent=1) + "\n"
    if text == original:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    changed = [p for p in map(Path, argv) if p.suffix == ".ipynb" and strip(p)]
    for p in changed:
        print(f"stripped outputs from {p}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
