"""``mlm:RUN``: a masked LM pretrained with ``biolens pretrain`` used as an encoder."""

from ._encoder import SHIPPED as SHIPPED
from ._encoder import availability as availability
from ._encoder import build as build
from ._encoder import resolve_run as resolve_run

__all__ = [
    "SHIPPED", "availability", "build", "resolve_run",
]  # fmt: skip
