"""Safe serialisation: the reviewed list of types a skops model file may hold.
"""

from __future__ import annotations

from typing import Any

from ml_lifecycle.exceptions import UntrustedModelTypes

# Types skops refuses by default that our own Pipelines contain (checked for every supported family
# with skops.io.get_untrusted_types); anything else in a model still fails loudly at log time.
SKOPS_TRUSTED = [
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
]


def check_trusted_types(pipeline: Any) -> None:
    """Refuse a model whose skops serialisation needs a type that is not in ``SKOPS_TRUSTED``.

    Loading a skops file only instantiates the types it is told to trust; we trust a short list that was
    reviewed for our model families, and never "whatever the file says". Raised before anything is logged.
    """
    import skops.io

    untrusted = sorted(set(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))) - set(SKOPS_TRUSTED))
    if untrusted:
        raise UntrustedModelTypes(
            f"the model contains types that are not in the reviewed trusted list (training.SKOPS_TRUSTED): "
            f"{', '.join(untrusted)}; review them and add them to SKOPS_TRUSTED only if loading them is safe"
        )
