"""Where the plugin's app lives: URLs relative to the API server, following its ``[api] base_url``."""

from __future__ import annotations

UI_PREFIX = "/ml-lifecycle"  # where the plugin's FastAPI app is mounted in the API server


def api_root_path() -> str:
    """The path part of ``[api] base_url`` ('' when Airflow is served at the host's root)."""
    from urllib.parse import urlsplit

    from airflow.sdk import conf

    return urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")


def app_url(path: str) -> str:
    """A URL of the plugin's app, relative to the API server's host (same origin as the Airflow UI)."""
    return f"{api_root_path()}{UI_PREFIX}/{path.lstrip('/')}"
