"""What a shape-only computation can go wrong with: an operation it cannot do, or a question
(a truth value, a number) that only values could answer.
"""

from __future__ import annotations

from ..spec import ShapeError, SpecError

__all__ = ["SymbolicError", "UnsupportedOperation", "ValuesNeeded", "OperandShapeError"]


class SymbolicError(SpecError):
    """Base class of the errors a shape-only computation raises."""


class UnsupportedOperation(SymbolicError, TypeError):
    """An operation shape-only arrays do not implement: they refuse rather than compute on zeros."""


class ValuesNeeded(SymbolicError, ValueError):
    """A result that depends on values (``bool(x.any())``, ``int(x[0])``): a shape-only array has none."""


class OperandShapeError(SymbolicError, ShapeError):
    """Operands whose shapes NumPy would reject (a matmul's inner sizes differ, and so on)."""
