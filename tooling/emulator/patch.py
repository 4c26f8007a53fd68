"""One emulator fix: a named, documented unit that `install()` applies once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Patch:
    service: str
    name: str
    reason: str  # one line: what moto 5.2.5 does wrong, what AWS does
    apply: Callable[[], None]
