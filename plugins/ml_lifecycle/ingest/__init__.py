"""Ingest: landing drops become versioned ``raw/`` partitions; late labels land in ``labels/``.

``reading`` reads a file as the spec describes it (every unreadable file gets an error naming it),
``landing`` copies a complete drop into ``raw/`` under its sha256, ``labels`` keeps the ground truth.

May import: the lake, the spec, the exceptions.
"""

from ml_lifecycle.exceptions import BadLabels, BadLandingFile, LandingInTheFuture, LandingNotReady
from ml_lifecycle.ingest.labels import ingest_labels
from ml_lifecycle.ingest.landing import ingest_landing, landing_ready, read_raw_features
from ml_lifecycle.ingest.reading import read_table, sha256_of

__all__ = [
    "BadLabels",
    "BadLandingFile",
    "LandingInTheFuture",
    "LandingNotReady",
    "ingest_labels",
    "ingest_landing",
    "landing_ready",
    "read_raw_features",
    "read_table",
    "sha256_of",
]
