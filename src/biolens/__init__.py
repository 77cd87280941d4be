"""biolens: learn the language of biology.

Embed protein and DNA sequences, structures and interaction graphs; train and evaluate
predictors; benchmark encoders; explain what models learned. JAX + Equinox throughout.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__", "embed", "get_encoder", "list_encoders"]


def __getattr__(name: str):
    # Lazy: `import biolens` stays fast and does not import JAX until it is needed.
    if name == "embed":
        from ._api import embed

        return embed
    if name in ("get_encoder", "list_encoders"):
        from .proteins.encoders import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'biolens' has no attribute {name!r}")
