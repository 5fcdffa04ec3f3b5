"""Known mistakes, as data: each one a small change to the reference :mod:`gptspec.impl`.

A :class:`Cause` names a mistake people make when they write the spec's functions (a scale of
1/d_head where the spec says 1/√d_head, queries and keys swapped, the mask on the wrong
triangle, ...), says it in the user's terms, lists the spec functions it shows in, and builds
the changed reference: :func:`changed` copies every function of :mod:`gptspec.impl` (unchecked)
into one namespace and swaps in the cause's replacements (:func:`derive`), so a change planted
low (the causal mask, GELU, the pattern's softmax) reaches every function that calls it, as it
would in a user's code. A numeric cause (a finite mask constant, layer norm's ε) has a
:class:`Fit`: the range its magnitude is searched in, on a log scale, against a counterexample.

The verifier's diagnosis (:mod:`gptspec.verification.diagnosis`) tests the changed references
against a failing target; the property tests' planted bugs (tests/properties/mutants.py) are
built with the same :func:`derive`, and where a planted bug is one of these causes, from it.

One module per idea: :mod:`.base` (what a cause is, the registry, the changed reference),
:mod:`.attention` (scale, projections, heads), :mod:`.mask`, :mod:`.softmax`, :mod:`.model` (layer
norm, GELU, block, residual stream), :mod:`.prediction` (embedding, prediction, sampling),
:mod:`.cache` (the KV cache), :mod:`.generation` (generate's draw) and :mod:`.shapes`. Importing the package registers
them all, in this order (the order a tie is settled in).
"""

from __future__ import annotations

from ...spec import SIGNATURES
from .base import *  # noqa: F403
from .base import REGISTRY, Cause
from .base import __all__ as _base
from .attention import *  # noqa: F403
from .attention import __all__ as _attention
from .mask import *  # noqa: F403
from .mask import __all__ as _mask
from .softmax import *  # noqa: F403
from .softmax import __all__ as _softmax
from .model import *  # noqa: F403
from .model import __all__ as _model
from .prediction import *  # noqa: F403
from .prediction import __all__ as _prediction
from .cache import *  # noqa: F403
from .cache import __all__ as _cache
from .generation import *  # noqa: F403
from .generation import __all__ as _generation
from .shapes import *  # noqa: F403
from .shapes import __all__ as _shapes

__all__ = ["CAUSES", "SIGNATURES", *_base, *_attention, *_mask, *_softmax, *_model, *_prediction, *_cache, *_generation, *_shapes]

CAUSES: tuple[Cause, ...] = tuple(REGISTRY.values())
"""Every known cause, in the order a tie between equally good ones is settled."""
