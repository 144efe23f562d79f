"""Where a model came from: library versions, the code version and the serving requirements.
"""

from __future__ import annotations

import platform


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    libs = {"sklearn": "scikit-learn", "mlflow": "mlflow", "pandas": "pandas", "airflow": "apache-airflow"}
    tags = {f"lib.{short}": version(dist) for short, dist in libs.items()}
    tags["lib.python"] = platform.python_version()
    tags["code_version"] = code_version()
    return tags


def serving_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{dist}=={version(dist)}" for dist in ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "pyarrow")]


def code_version() -> str:
    """The checkout's git commit (``+dirty`` with local changes), else the package version."""
    import subprocess

    from ml_lifecycle import __version__
    from ml_lifecycle.settings import project_root

    try:
        commit = subprocess.run(["git", "-C", str(project_root()), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(project_root()), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"ml-lifecycle {__version__}"
    return f"{commit}{'+dirty' if dirty else ''}"
