"""The layer contract in pyproject.toml holds, and an import against it fails the lint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(plugins: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(plugins)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(REPO / "pyproject.toml")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_the_layers_hold_on_the_code_as_it_is():
    result = _lint(REPO / "plugins")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    copy = tmp_path / "plugins"
    shutil.copytree(REPO / "plugins", copy, ignore=shutil.ignore_patterns("__pycache__"))
    # The lake (a low layer) reaching up into the registry is what the contract exists to stop.
    with (copy / "ml_lifecycle" / "lake" / "layout.py").open("a") as f:
        f.write("\nfrom ml_lifecycle.registry import champion_version  # noqa: E402,F401\n")
    with (copy / "ml_lifecycle" / "metrics.py").open("a") as f:
        f.write("\nimport ml_lifecycle_dev.simulate  # noqa: E402,F401\n")
    result = _lint(copy)
    assert result.returncode != 0
    assert "ml_lifecycle.lake.layout -> ml_lifecycle.registry" in result.stdout
    assert "ml_lifecycle.metrics -> ml_lifecycle_dev.simulate" in result.stdout
    assert "0 kept, 2 broken" in result.stdout
