"""``ml-lifecycle scheduler [airflow scheduler options]``: Airflow's own scheduler command, in a process
that has imported the task libraries first (``preload``).

LocalExecutor forks all of its workers from the scheduler when it starts (``[scheduler] mp_start_method``
fork, after ``gc.freeze()``), and Airflow's supervisor forks each task process from its worker, so every
task starts with pandas, scikit-learn, MLflow, Great Expectations and Evidently already in memory, shared
copy-on-write. Measured on two cores (``../shared/STACK_NOTES.md``): a churn day's task time 61 -> 20 s;
a forkserver with the same preload did worse (30-37 s, twice the peak memory: its workers fork without
``gc.freeze()``).
"""

from __future__ import annotations

import sys


def run_scheduler(argv: list[str]) -> None:
    from airflow.__main__ import main as airflow_main

    import ml_lifecycle.embedded.preload  # noqa: F401  - before Airflow's CLI starts the executor

    sys.argv = ["airflow", "scheduler", *argv]
    airflow_main()
