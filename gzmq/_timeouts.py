"""Checking the ``timeout`` arguments of gzmq's public calls, before anything waits."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["check_seconds"]


def check_seconds(timeout: Any, name: str = "timeout", unit: str = "seconds") -> float | None:
    """``timeout`` as a float: None, a negative number or infinity mean forever (None).

    A bool or a non-number is a TypeError and NaN a ValueError, each naming
    the argument: a NaN would reach a libev timer and stop every timer of
    the hub.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(
            f"{name} must be a number of {unit} or None, got {type(timeout).__name__}: "
            f"{timeout!r}"
        )
    if timeout < 0 or math.isinf(timeout):
        return None
    if math.isnan(timeout):
        raise ValueError(f"{name} must be a number of {unit} or None, got nan")
    return float(timeout)
