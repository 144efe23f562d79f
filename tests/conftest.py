"""Test-wide settings: every test session keeps its state under .local/tests/<pid>/ of the checkout.

The environment must be set before anything imports airflow, which reads its configuration once.
Each session gets its own folder so two concurrent runs never share an Airflow DB or a lake.
"""

from __future__ import annotations

import os
import shutil

from ml_lifecycle.settings import apply_embedded_environment, project_root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


TESTS_ROOT = project_root() / ".local" / "tests"
TESTS_ROOT.mkdir(parents=True, exist_ok=True)
for stale in TESTS_ROOT.iterdir():
    # artifacts/ keeps the browser tests' screenshots of the last run for people to look at
    if stale.name != "artifacts" and not (stale.name.isdigit() and _alive(int(stale.name))):
        shutil.rmtree(stale, ignore_errors=True)
TEST_HOME = TESTS_ROOT / str(os.getpid())
apply_embedded_environment(TEST_HOME)
