"""NumPy: the spec's own framework. A target's functions get the arrays the properties give and
return arrays; nothing is converted."""

from __future__ import annotations

from . import Framework

__all__ = ["FRAMEWORK"]

FRAMEWORK = Framework(name="numpy", values="arrays")
