"""The README's examples run: every ```python block executes, and its two set-up commands exist.

Blocks run in order in one namespace, from the repository root, so a later block may use names an
earlier one defined — as a reader following the README would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
PY_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
SH_BLOCK = re.compile(r"```(?:bash|sh|shell)\n(.*?)```", re.DOTALL)


def test_python_snippets_run(tmp_path):
    blocks = PY_BLOCK.findall(README)
    assert blocks, "README has no python examples"
    script = tmp_path / "readme_snippets.py"
    script.write_text("\n\n".join(blocks), encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-W", "error::SyntaxWarning", str(script)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_setup_commands_are_make_targets():
    # The README's two set-up commands (main job and tests) must be real Makefile targets.
    commands = [line.strip() for block in SH_BLOCK.findall(README) for line in block.splitlines()]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    used = {c.split()[1] for c in commands if c.startswith("make ")}
    assert {"report", "test"} <= used, used
    assert used <= targets, used - targets
