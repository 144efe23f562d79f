"""The embedded default as a running service: Airflow's scheduler, DAG processor, triggerer and API
server plus the MLflow UI, as background processes of this checkout (``ml-lifecycle up|down|ps``).

``services`` starts, watches and stops them (pid files and logs under ``.local/``), ``api`` speaks to
the Airflow REST API the way the UI does (trigger, backfill, answer an approval), ``status`` says what
each pipeline is doing, ``scheduler`` is Airflow's scheduler in a process that imported ``preload`` first,
so the task processes LocalExecutor forks start without paying the heavy imports again.

May import: everything of the lifecycle below the CLI.
"""
