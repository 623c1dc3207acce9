"""The architecture of DESIGN.md holds in the code: dependencies point one way.

The contracts live in pyproject.toml (`[tool.importlinter]`): the core never imports the
adapters or the simulators, adapters never import the simulators, and inside `cuas/` the
layers run commands > service and operator tools > I/O > fusion > tracking > contract.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_core_has_about_a_dozen_modules_at_its_top() -> None:
    top = sorted(p.name for p in (ROOT / "cuas").glob("*.py"))
    assert len(top) <= 12, top
