"""The plugin's web app in the Airflow API server: the Models view, reports, model cards and partitions.

``LazyApp`` is what the plugin registers: Airflow imports plugins in every component (scheduler,
triggerer, DAG processor), so the FastAPI application, MLflow and pandas are imported only when the API
server receives the first request for ``/ml-lifecycle/...`` (see ``ml_lifecycle.ui.app``).
``links`` holds the operators' extra links, ``urls`` the app's paths, ``data`` reads the registry and the
lake's reports (through :mod:`ml_lifecycle.lake`'s readers), ``pages`` and ``charts`` render them.

May import: hooks, the registry and everything below it; never operators (they import the links from here).
"""

from __future__ import annotations

import importlib
import threading
from typing import Any


class LazyApp:
    """An ASGI app that builds the real one (``"module:factory"``) on its first request."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._app: Any = None
        self._lock = threading.Lock()

    def _build(self) -> Any:
        with self._lock:
            if self._app is None:
                module, _, factory = self.target.partition(":")
                self._app = getattr(importlib.import_module(module), factory)()
        return self._app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        app = self._app if self._app is not None else self._build()
        await app(scope, receive, send)

    def __repr__(self) -> str:
        return f"LazyApp({self.target!r})"
