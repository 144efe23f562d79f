"""Test-wide settings: every test run keeps its state under .local/tests/ of the checkout.

The environment must be set before anything imports airflow, which reads its configuration once.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ml_lifecycle.settings import apply_embedded_environment, project_root

TEST_HOME = project_root() / ".local" / "tests"
shutil.rmtree(TEST_HOME, ignore_errors=True)
apply_embedded_environment(TEST_HOME)
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")


def test_home() -> Path:
    return TEST_HOME
