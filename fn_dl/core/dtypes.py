"""Dtypes, weak types and type promotion.

Dtypes are NumPy dtype objects (bfloat16 comes from ml_dtypes). The public
names (`fnp.float32`, ...) are callable scalar types, as in JAX:
`fnp.float32(3)` makes a 0-d Array and `x.dtype == fnp.float32` holds.

Promotion follows the Array API table, extended JAX-style where the standard
is silent (int with float gives the float; float16 with bfloat16 gives
float32), and Python scalars are *weak*: they take the other operand's dtype
(`float32_array * 2.0` stays float32).
"""
from __future__ import annotations

import functools

import ml_dtypes
import numpy as np

bool_ = np.dtype(np.bool_)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
float16, float32, float64 = (np.dtype(t) for t in (np.float16, np.float32, np.float64))
bfloat16 = np.dtype(ml_dtypes.bfloat16)
complex64, complex128 = np.dtype(np.complex64), np.dtype(np.complex128)

SIGNED = (int8, int16, int32, int64)
UNSIGNED = (uint8, uint16, uint32, uint64)
INTEGER = SIGNED + UNSIGNED
FLOATING = (float16, bfloat16, float32, float64)
COMPLEX = (complex64, complex128)
ALL = (bool_,) + INTEGER + FLOATING + COMPLEX

default_float = float32
default_int = int32
default_complex = complex64


def is_bool(d) -> bool:
    return d == bool_


def is_integer(d) -> bool:
    return d in INTEGER


def is_unsigned(d) -> bool:
    return d in UNSIGNED


def is_floating(d) -> bool:
    return d in FLOATING


def is_complex(d) -> bool:
    return d in COMPLEX


_INEXACT = frozenset(FLOATING + COMPLEX)


def is_inexact(d) -> bool:
    # the set answers canonical dtypes by hash; the tuples also take scalar types and names (== compares)
    return d in _INEXACT or d in FLOATING or d in COMPLEX


def kind(d) -> str:
    """'b', 'i', 'u', 'f' or 'c' (bfloat16 counts as 'f')."""
    return 'f' if d == bfloat16 else np.dtype(d).kind


def finfo(d):
    return ml_dtypes.finfo(d)


def iinfo(d):
    return np.iinfo(d)


def canonicalize(d) -> np.dtype:
    """Any dtype-like (np.float32, 'float32', fnp.float32, np.dtype) to a supported np.dtype."""
    try:
        out = np.dtype(d)
    except TypeError as e:
        raise TypeError(f"{d!r} is not a dtype; use one of fn_dl.numpy's dtypes such as fnp.float32") from e
    if out not in _SUPPORTED:
        raise TypeError(f"dtype {out} is not supported by fn_dl; supported: {', '.join(map(str, ALL))}")
    return out


_SUPPORTED = frozenset(ALL)


def _same_kind_wider(a, b):
    return a if a.itemsize >= b.itemsize else b


@functools.lru_cache(maxsize=None)
def _promote_strong(a: np.dtype, b: np.dtype) -> np.dtype:
    if a == b:
        return a
    ka, kb = kind(a), kind(b)
    order = 'biufc'
    if order.index(ka) > order.index(kb) or (ka == 'u' and kb == 'i'):
        a, b, ka, kb = b, a, kb, ka
    # now ka <= kb in b < i/u < f < c
    if ka == 'b':
        return b
    if ka == kb and ka in 'iu':
        return _same_kind_wider(a, b)
    if ka == 'i' and kb == 'u':
        # signed with unsigned: the smallest signed type holding both
        for cand in SIGNED:
            if cand.itemsize > b.itemsize and cand.itemsize >= a.itemsize:
                return cand
        return float64
    if ka in 'iu' and kb in 'fc':
        return b
    if ka == 'f' and kb == 'f':
        if {a, b} == {float16, bfloat16}:
            return float32
        return _same_kind_wider(a, b)
    if ka == 'f' and kb == 'c':
        return complex128 if a == float64 else b
    if ka == 'c' and kb == 'c':
        return _same_kind_wider(a, b)
    raise TypeError(f"cannot promote {a} and {b}")


_WEAK_RANK = {'b': 0, 'i': 1, 'u': 1, 'f': 2, 'c': 3}


@functools.lru_cache(maxsize=None)
def promote(a: np.dtype, a_weak: bool, b: np.dtype, b_weak: bool) -> tuple[np.dtype, bool]:
    """Result (dtype, weak) of combining two typed values."""
    if a_weak and b_weak:
        return (a if _WEAK_RANK[kind(a)] >= _WEAK_RANK[kind(b)] else b), True
    if a_weak or b_weak:
        (w, s) = (a, b) if a_weak else (b, a)
        if _WEAK_RANK[kind(w)] <= _WEAK_RANK[kind(s)] and not (kind(w) == 'i' and kind(s) == 'b'):
            return s, False
        if kind(w) == 'c':  # weak complex with a real float keeps its precision
            return (complex128 if s == float64 else complex64), False
        # weak float with an integer/bool array, or weak int with bool: the default type
        return (default_float if kind(w) == 'f' else default_int), False
    return _promote_strong(a, b), False


def result_type(*typed) -> tuple[np.dtype, bool]:
    """Result (dtype, weak) for (dtype, weak) pairs."""
    dt, weak = typed[0]
    for d, w in typed[1:]:
        dt, weak = promote(dt, weak, d, w)
    return dt, weak


def python_scalar_dtype(x) -> np.dtype:
    """The (weak) dtype a Python scalar takes."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return default_int
    if isinstance(x, float):
        return default_float
    if isinstance(x, complex):
        return default_complex
    raise TypeError(f"{type(x).__name__} is not a Python scalar")


def to_inexact(d) -> np.dtype:
    """The floating dtype an operation like `mean` or `sqrt` computes in."""
    return d if is_inexact(d) else default_float


def to_real(d) -> np.dtype:
    return {complex64: float32, complex128: float64}.get(d, d)


def to_complex(d) -> np.dtype:
    return complex128 if d in (float64, complex128) else complex64


# Public scalar types ------------------------------------------------------


class _ScalarMeta(type):
    def __eq__(cls, other):
        return other is cls or (not isinstance(other, _ScalarMeta) and _safe_eq(cls.dtype, other))

    def __ne__(cls, other):
        return not _ScalarMeta.__eq__(cls, other)  # cls.__eq__ would find the instances' (object's) method

    def __hash__(cls):
        return hash(cls.dtype)

    def __repr__(cls):
        return f"fn_dl.numpy.{cls.dtype.name}"

    def __call__(cls, x):
        from fn_dl.numpy import asarray
        return asarray(x, dtype=cls.dtype)


def _safe_eq(d, other):
    if other is None:  # np.dtype(None) is float64, but None is no dtype
        return False
    try:
        return d == np.dtype(other)
    except (TypeError, ValueError):  # not a dtype-like (np.dtype('some text') raises ValueError)
        return False


def scalar_type(d: np.dtype):
    return _ScalarMeta(d.name, (), {'dtype': d})
