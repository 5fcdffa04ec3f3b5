"""gptspec.symbolic: full-size shape checks without the memory.

Shape-only arrays (:mod:`.array`) carry the shape and dtype of a full-size tensor in a few bytes;
the reference, or a user's NumPy implementation, runs on them unchanged, and every typed signature
is checked on the way. :mod:`.forward` composes the forward pass from an implementation's
functions and reports where a shape goes wrong (``layer 37 › block › multi_head_attention``);
:mod:`.trace` records the operations and the bytes a real run would hold; :mod:`.report` prints
them. ``gptspec check`` is the command.
"""

from .array import SUPPORTED_FUNCTIONS, IndexOutOfBounds, ShapeOnlyArray, shape_only, tri
from .errors import OperandShapeError, SymbolicError, UnsupportedOperation, ValuesNeeded
from .forward import CheckRun, Functions, ImplementationRaised, check_alone, check_forward
from .trace import Op, Recorder, recording
from .weights import shape_only_tokens, shape_only_weights

__all__ = [
    "SUPPORTED_FUNCTIONS", "IndexOutOfBounds", "ShapeOnlyArray", "shape_only", "tri",
    "OperandShapeError", "SymbolicError", "UnsupportedOperation", "ValuesNeeded",
    "CheckRun", "Functions", "ImplementationRaised", "check_alone", "check_forward",
    "Op", "Recorder", "recording", "shape_only_tokens", "shape_only_weights",
]
