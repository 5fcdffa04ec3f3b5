"""The wire: what crosses from a target's process into gptspec's is data, never objects.

A reply of the target's process is encoded there by :func:`encode` and read here by
:func:`decode`, which builds nothing but ``None``, ``bool``, ``int`` (any size: a Generator's
PCG64 state holds 128-bit ints), ``float``, ``complex``, ``str``, ``bytes``, tuples, lists and
dicts of them, NumPy scalars and arrays of the dtypes of :data:`DTYPES` (bool, ints, uints,
float16/32/64, complex64/128, either byte order). An array crosses as its dtype string, its
shape and its raw buffer. Nothing is pickled: decoding reads bytes and calls no code that a
message could name, so an answer cannot run anything of the target's here (pickle calls
whatever ``__reduce__`` named, which is how an object-dtype array ran ``exec`` in the verifier).

:func:`encode` refuses what is not data (an object, void, structured or datetime array, a
custom class, a tensor nobody converted) with :class:`Refused`, naming what it met and where;
:func:`decode` refuses a message that is not one :func:`encode` makes (the target can write into
its pipe) with :class:`Garbled`. Either is the target's error, never the verifier's crash.

Each value is a one-byte tag and its body, little-endian::

    N T F             None, True, False
    i <q>             an int of 64 bits;  I <I n> <n bytes>  any other int (two's complement)
    f <d>  x <dd>     a float, a complex
    s <I n> utf-8     a str;  b <I n> bytes
    t l <I n> items   a tuple, a list;  d <I n> key value ...  a dict
    a <B k> dtype <B ndim> <q>×ndim buffer    an ndarray (C order)
    g <B k> dtype buffer                      a NumPy scalar
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["DTYPES", "ACCEPTED", "Refused", "Garbled", "encode", "decode", "describe"]

_TYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
          np.float16, np.float32, np.float64, np.complex64, np.complex128)
DTYPES = frozenset(s for t in _TYPES for s in (np.dtype(t).newbyteorder("<").str, np.dtype(t).newbyteorder(">").str))
"""The dtype strings an array or NumPy scalar may cross as ('<f8', '>i4', '|b1', ...)."""

ACCEPTED = "gptspec accepts numeric and boolean arrays, numbers, strings and tuples/lists/dicts of them"

DEPTH = 64
"""How deeply tuples, lists and dicts may nest in one message."""


class Refused(TypeError):
    """A value that does not cross: ``what`` names it ("an ndarray of dtype object", "a mine.Payload")."""

    def __init__(self, what: str, at: str = "") -> None:
        super().__init__(what + (f" (at {at})" if at else ""))
        self.what, self.at = what, at


class Garbled(ValueError):
    """Bytes that are not a message :func:`encode` makes."""


_Q = struct.Struct("<q")
_I = struct.Struct("<I")
_D = struct.Struct("<d")
_DD = struct.Struct("<dd")
_B = struct.Struct("<B")
_INT64 = (-(1 << 63), 1 << 63)


def describe(value: Any) -> str:
    """What a value is, for a refusal: 'an ndarray of dtype object', 'a torch.Tensor', 'a set'."""
    if isinstance(value, np.ndarray):
        return f"an ndarray of dtype {value.dtype}"
    if isinstance(value, np.generic):
        return f"a NumPy scalar of dtype {value.dtype}"
    cls = type(value)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", "object")
    full = name if module == "builtins" else f"{module}.{name}"
    return f"{'an' if full[:1].lower() in 'aeiou' else 'a'} {full}"


# ---------------------------------------------------------------------------------------------
# encoding (in the target's process)


def encode(value: Any) -> bytes:
    """``value`` as bytes for :func:`decode`; :class:`Refused` if it is not data of the kinds above."""
    parts: list[Any] = []
    _put(value, parts, "", 0)
    return b"".join(parts)


def _put(value: Any, parts: list[Any], at: str, depth: int) -> None:
    put = _PUT.get(type(value))
    if put is not None:
        put(value, parts, at, depth)
        return
    if isinstance(value, np.ndarray):  # a subclass (a matrix, a masked array) crosses as a plain array
        _put_array(np.asarray(value), parts, at, depth)
    elif isinstance(value, np.generic):
        _put_scalar(value, parts, at, depth)
    elif isinstance(value, (bool, int, float, complex, str, bytes, tuple, list, dict)):  # a subclass: its base's value
        base: Any = next(b for b in (bool, int, float, complex, str, bytes, tuple, list, dict) if isinstance(value, b))
        _PUT[base](base(value), parts, at, depth)
    else:
        raise Refused(describe(value), at)


def _put_none(value: Any, parts: list[Any], at: str, depth: int) -> None:
    parts.append(b"N")


def _put_bool(value: bool, parts: list[Any], at: str, depth: int) -> None:
    parts.append(b"T" if value else b"F")


def _put_int(value: int, parts: list[Any], at: str, depth: int) -> None:
    if _INT64[0] <= value < _INT64[1]:
        parts += (b"i", _Q.pack(value))
    else:
        raw = value.to_bytes(value.bit_length() // 8 + 1, "little", signed=True)
        parts += (b"I", _I.pack(len(raw)), raw)


def _put_float(value: float, parts: list[Any], at: str, depth: int) -> None:
    parts += (b"f", _D.pack(value))


def _put_complex(value: complex, parts: list[Any], at: str, depth: int) -> None:
    parts += (b"x", _DD.pack(value.real, value.imag))


def _put_str(value: str, parts: list[Any], at: str, depth: int) -> None:
    raw = value.encode("utf-8", "surrogatepass")
    parts += (b"s", _I.pack(len(raw)), raw)


def _put_bytes(value: bytes, parts: list[Any], at: str, depth: int) -> None:
    parts += (b"b", _I.pack(len(value)), value)


def _sequence(tag: bytes) -> Callable[[Any, list[Any], str, int], None]:
    def put(value: Any, parts: list[Any], at: str, depth: int) -> None:
        if depth >= DEPTH:
            raise Refused(f"a structure nested more than {DEPTH} deep", at)
        parts += (tag, _I.pack(len(value)))
        for i, item in enumerate(value):
            _put(item, parts, f"{at}[{i}]", depth + 1)

    return put


def _put_dict(value: dict[Any, Any], parts: list[Any], at: str, depth: int) -> None:
    if depth >= DEPTH:
        raise Refused(f"a structure nested more than {DEPTH} deep", at)
    parts += (b"d", _I.pack(len(value)))
    for key, item in value.items():
        _put(key, parts, f"{at} (a key)", depth + 1)
        _put(item, parts, f"{at}[{key!r:.40}]", depth + 1)


def _dtype_text(dtype: np.dtype[Any], what: Any, at: str) -> bytes:
    text = dtype.str
    if text not in DTYPES:
        raise Refused(describe(what), at)
    return text.encode("ascii")


def _put_array(value: np.ndarray[Any, Any], parts: list[Any], at: str, depth: int) -> None:
    dtype = _dtype_text(value.dtype, value, at)
    parts += (b"a", _B.pack(len(dtype)), dtype, _B.pack(value.ndim), *map(_Q.pack, value.shape))
    parts.append(np.ascontiguousarray(value).reshape(-1).view(np.uint8))


def _put_scalar(value: np.generic, parts: list[Any], at: str, depth: int) -> None:
    dtype = _dtype_text(value.dtype, value, at)
    parts += (b"g", _B.pack(len(dtype)), dtype, value.tobytes())


_PUT: dict[type, Callable[[Any, list[Any], str, int], None]] = {
    type(None): _put_none, bool: _put_bool, int: _put_int, float: _put_float, complex: _put_complex,
    str: _put_str, bytes: _put_bytes, tuple: _sequence(b"t"), list: _sequence(b"l"), dict: _put_dict,
    np.ndarray: _put_array,
}


# ---------------------------------------------------------------------------------------------
# decoding (in gptspec's process): bytes in, data out, nothing called that a message names


def decode(data: bytes | bytearray | memoryview) -> Any:
    """The value :func:`encode` made of these bytes; :class:`Garbled` for anything else."""
    view = memoryview(data).cast("B")
    try:
        value, end = _take(view, 0, 0)
    except Garbled:
        raise
    except struct.error:
        raise Garbled("the message ends inside a value") from None
    except (IndexError, ValueError, TypeError, OverflowError, UnicodeDecodeError) as exc:
        raise Garbled(f"{type(exc).__name__}: {exc}") from None
    if end != len(view):
        raise Garbled(f"{len(view) - end} bytes after the end of the message")
    return value


def _take(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    if at >= len(view):
        raise Garbled("the message ends before its value")
    tag = view[at]
    take = _TAKE.get(tag)
    if take is None:
        raise Garbled(f"an unknown tag {bytes([tag])!r} at byte {at}")
    return take(view, at + 1, depth)


def _need(view: memoryview, at: int, n: int) -> int:
    if n < 0 or at + n > len(view):
        raise Garbled(f"{n} bytes announced at byte {at}, {len(view) - at} left")
    return at + n


def _take_int(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    return _Q.unpack_from(view, at)[0], _need(view, at, 8)


def _take_big(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    (n,) = _I.unpack_from(view, at)
    end = _need(view, at + 4, n)
    return int.from_bytes(view[at + 4:end], "little", signed=True), end


def _take_float(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    return _D.unpack_from(view, at)[0], _need(view, at, 8)


def _take_complex(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    real, imag = _DD.unpack_from(view, at)
    return complex(real, imag), _need(view, at, 16)


def _take_str(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    (n,) = _I.unpack_from(view, at)
    end = _need(view, at + 4, n)
    return bytes(view[at + 4:end]).decode("utf-8", "surrogatepass"), end


def _take_bytes(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    (n,) = _I.unpack_from(view, at)
    end = _need(view, at + 4, n)
    return bytes(view[at + 4:end]), end


def _items(view: memoryview, at: int, depth: int, n: int) -> tuple[list[Any], int]:
    if depth >= DEPTH:
        raise Garbled(f"values nested more than {DEPTH} deep")
    _need(view, at, n)  # every item takes a byte at least: a count beyond the message is garbled
    items = []
    for _ in range(n):
        item, at = _take(view, at, depth + 1)
        items.append(item)
    return items, at


def _take_tuple(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    items, end = _items(view, at + 4, depth, _I.unpack_from(view, at)[0])
    return tuple(items), end


def _take_list(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    return _items(view, at + 4, depth, _I.unpack_from(view, at)[0])


def _take_dict(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    items, end = _items(view, at + 4, depth, 2 * _I.unpack_from(view, at)[0])
    try:
        return dict(zip(items[::2], items[1::2])), end
    except TypeError:  # a list as a key
        raise Garbled("a dict with an unhashable key") from None


def _take_dtype(view: memoryview, at: int) -> tuple[np.dtype[Any], int]:
    n = view[at]
    end = _need(view, at + 1, n)
    text = bytes(view[at + 1:end]).decode("ascii", "replace")
    if text not in DTYPES:
        raise Garbled(f"an array of dtype {text!r:.20}")
    return np.dtype(text), end


def _take_array(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    dtype, at = _take_dtype(view, at)
    ndim = view[at]
    at = _need(view, at + 1, 8 * ndim) - 8 * ndim
    shape = struct.unpack_from(f"<{ndim}q", view, at)
    if any(n < 0 for n in shape):
        raise Garbled(f"an array of shape {shape}")
    at += 8 * ndim
    size = math.prod(shape)
    end = _need(view, at, size * dtype.itemsize)
    array = np.frombuffer(view, dtype, size, at).reshape(shape).copy() if size else np.empty(shape, dtype)
    return array, end


def _take_scalar(view: memoryview, at: int, depth: int) -> tuple[Any, int]:
    dtype, at = _take_dtype(view, at)
    end = _need(view, at, dtype.itemsize)
    return np.frombuffer(view, dtype, 1, at)[0], end


def _constant(value: Any) -> Callable[[memoryview, int, int], tuple[Any, int]]:
    return lambda view, at, depth: (value, at)


_TAKE: dict[int, Callable[[memoryview, int, int], tuple[Any, int]]] = {
    ord("N"): _constant(None), ord("T"): _constant(True), ord("F"): _constant(False),
    ord("i"): _take_int, ord("I"): _take_big, ord("f"): _take_float, ord("x"): _take_complex,
    ord("s"): _take_str, ord("b"): _take_bytes, ord("t"): _take_tuple, ord("l"): _take_list, ord("d"): _take_dict,
    ord("a"): _take_array, ord("g"): _take_scalar,
}
