"""gptspec.symbolic: full-size shape checks without the memory.

Shape-only arrays (:mod:`.array`) carry the shape and dtype of a full-size tensor in a few bytes;
the reference, or a user's NumPy implementation, runs on them unchanged, and every typed signature
is checked on the way. :mod:`.forward` composes the forward pass from an implementation's
functions and reports where a shape goes wrong (``layer 37 › multi_head_attention``).
"""

from .array import SUPPORTED_FUNCTIONS, IndexOutOfBounds, ShapeOnlyArray, shape_only, tri
from .errors import OperandShapeError, SymbolicError, UnsupportedOperation, ValuesNeeded
from .trace import Op, Recorder, recording

__all__ = [
    "SUPPORTED_FUNCTIONS", "IndexOutOfBounds", "ShapeOnlyArray", "shape_only", "tri",
    "OperandShapeError", "SymbolicError", "UnsupportedOperation", "ValuesNeeded",
    "Op", "Recorder", "recording",
]
