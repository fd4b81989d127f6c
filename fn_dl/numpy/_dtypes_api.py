"""Dtype objects and the Array API's dtype functions (finfo, iinfo, result_type, can_cast, isdtype, astype)."""
from __future__ import annotations

import numpy as np

from fn_dl.core import dtypes as _d
from fn_dl.numpy._util import asarray, typed

bool_ = _d.scalar_type(_d.bool_)
int8, int16, int32, int64 = (_d.scalar_type(t) for t in _d.SIGNED)
uint8, uint16, uint32, uint64 = (_d.scalar_type(t) for t in _d.UNSIGNED)
float16, bfloat16, float32, float64 = (_d.scalar_type(t) for t in (_d.float16, _d.bfloat16, _d.float32, _d.float64))
complex64, complex128 = (_d.scalar_type(t) for t in _d.COMPLEX)
bool = bool_  # noqa: A001  (the Array API names it `bool`)
float_ = float32
int_ = int32
dtype = np.dtype
generic = np.generic
number = np.number
integer = np.integer
signedinteger = np.signedinteger
unsignedinteger = np.unsignedinteger
floating = np.floating
complexfloating = np.complexfloating
inexact = np.inexact


def _as_dtype(x):
    if isinstance(x, (np.dtype, type)) or isinstance(x, str):
        return _d.canonicalize(x)
    return asarray(x).dtype if not hasattr(x, 'dtype') else _d.canonicalize(x.dtype)


def finfo(type, /):  # noqa: A002
    """Machine limits of a floating dtype (or of an array's dtype)."""
    return _d.finfo(_as_dtype(type))


def iinfo(type, /):  # noqa: A002
    return _d.iinfo(_as_dtype(type))


def result_type(*arrays_and_dtypes):
    """The dtype the Array API promotion rules give (Python scalars are weak)."""
    pairs = []
    for a in arrays_and_dtypes:
        if isinstance(a, (int, float, complex)) and not isinstance(a, type):
            pairs.append(typed(a))
        elif hasattr(a, 'shape') and hasattr(a, 'dtype'):
            pairs.append((_d.canonicalize(a.dtype), getattr(a, 'weak_type', False)))
        else:
            pairs.append((_d.canonicalize(a), False))
    if not pairs:
        raise ValueError("result_type: at least one array or dtype is required")
    return _d.result_type(*pairs)[0]


def promote_types(a, b):
    return _d.promote(_d.canonicalize(a), False, _d.canonicalize(b), False)[0]


def can_cast(from_, to, /, casting='safe'):
    f = _as_dtype(from_)
    t = _d.canonicalize(to)
    return promote_types(f, t) == t


_KINDS = {
    'bool': lambda d: d == _d.bool_,
    'signed integer': lambda d: d in _d.SIGNED,
    'unsigned integer': lambda d: d in _d.UNSIGNED,
    'integral': lambda d: d in _d.INTEGER,
    'real floating': lambda d: d in _d.FLOATING,
    'complex floating': lambda d: d in _d.COMPLEX,
    'numeric': lambda d: d != _d.bool_,
}


def isdtype(dtype, kind):
    """Whether `dtype` is of `kind` (a dtype, a kind name like 'real floating', or a tuple of them)."""
    d = _d.canonicalize(dtype)
    if isinstance(kind, tuple):
        return any(isdtype(d, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r}; one of {sorted(_KINDS)}")
        return _KINDS[kind](d)
    return d == _d.canonicalize(kind)


def issubdtype(arg1, arg2):
    return np.issubdtype(_d.canonicalize(arg1) if not isinstance(arg1, type) else arg1,
                         arg2.dtype if isinstance(getattr(arg2, 'dtype', None), np.dtype) else arg2)


def astype(x, dtype, /, *, copy=True, device=None):
    """x converted to `dtype` (float to int truncates toward zero)."""
    from fn_dl.ops.elementwise import convert_element_type
    x = asarray(x)
    d = _d.canonicalize(dtype)
    return x if x.dtype == d else convert_element_type(x, d)


__all__ = ['bool_', 'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16',
           'bfloat16', 'float32', 'float64', 'complex64', 'complex128', 'float_', 'int_', 'dtype', 'generic',
           'number', 'integer', 'signedinteger', 'unsignedinteger', 'floating', 'complexfloating', 'inexact',
           'finfo', 'iinfo', 'result_type', 'promote_types', 'can_cast', 'isdtype', 'issubdtype', 'astype']
