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


class _FInfo:
    """Machine limits of a floating dtype: NumPy's finfo with the Array API's fields as Python numbers."""

    def __init__(self, dtype):
        info = _d.finfo(dtype)
        self._info = info
        self.bits = int(info.bits)
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.smallest_normal = self.tiny = float(info.smallest_normal)
        self.dtype = np.dtype(info.dtype)  # complex64's limits are float32's

    def __getattr__(self, name):  # the rest of NumPy's finfo (resolution, nmant, maxexp, ...)
        if name == '_info':  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self._info, name)

    def __repr__(self):
        return f"finfo(bits={self.bits}, eps={self.eps}, min={self.min}, max={self.max}, dtype={self.dtype.name})"


def finfo(type, /):  # noqa: A002
    """Machine limits of a floating dtype (or of an array's dtype); bits, eps, max, min and smallest_normal
    are Python numbers.

    >>> import fn_dl.numpy as fnp
    >>> fnp.finfo(fnp.bfloat16).eps, fnp.finfo(fnp.float32).bits
    (0.0078125, 32)
    """
    d = _as_dtype(type)
    if not _d.is_inexact(d):
        raise TypeError(f"finfo: {d} is not a floating dtype; use fnp.iinfo for integers")
    return _FInfo(d)


def iinfo(type, /):  # noqa: A002
    """Machine limits of an integer dtype (or of an array's dtype).

    >>> import fn_dl.numpy as fnp
    >>> fnp.iinfo(fnp.int8).min, fnp.iinfo(fnp.uint16).max
    (-128, 65535)
    """
    d = _as_dtype(type)
    if not _d.is_integer(d):
        raise TypeError(f"iinfo: {d} is not an integer dtype; use fnp.finfo for floats")
    return _d.iinfo(d)


def result_type(*arrays_and_dtypes):
    """The dtype that combining these arrays, dtypes and Python scalars gives (Python scalars are weak).

    >>> import fn_dl.numpy as fnp
    >>> fnp.result_type(fnp.int8, fnp.uint8), fnp.result_type(fnp.zeros(2, dtype=fnp.float16), 2.0)
    (dtype('int16'), dtype('float16'))
    """
    pairs = []
    for a in arrays_and_dtypes:
        if isinstance(a, (int, float, complex)) and not isinstance(a, type):
            pairs.append(typed(a, 'result_type'))
        elif hasattr(a, 'shape') and hasattr(a, 'dtype'):
            pairs.append((_d.canonicalize(a.dtype), getattr(a, 'weak_type', False)))
        else:
            pairs.append((_d.canonicalize(a), False))
    if not pairs:
        raise ValueError("result_type: at least one array or dtype is required")
    return _d.result_type(*pairs)[0]


def promote_types(a, b):
    """The dtype two dtypes promote to.

    >>> import fn_dl.numpy as fnp
    >>> fnp.promote_types(fnp.float16, fnp.bfloat16)
    dtype('float32')
    """
    return _d.promote(_d.canonicalize(a), False, _d.canonicalize(b), False)[0]


def can_cast(from_, to, /, casting='safe'):
    """Whether `from_` (a dtype or an array) converts to `to` under NumPy's `casting` rule: 'safe' (no values
    lost: `to` is what both promote to), 'same_kind' (also narrowing within bool < int < float < complex),
    'no' or 'equiv' (the same dtype) or 'unsafe' (always).

    >>> import fn_dl.numpy as fnp
    >>> fnp.can_cast(fnp.int8, fnp.int16), fnp.can_cast(fnp.float64, fnp.float32)
    (True, False)
    >>> fnp.can_cast(fnp.float64, fnp.float32, casting='same_kind')
    True
    """
    f = _as_dtype(from_)
    t = _d.canonicalize(to)
    if casting in ('no', 'equiv'):
        return f == t
    if casting == 'unsafe':
        return True
    if casting == 'safe':
        return promote_types(f, t) == t
    if casting == 'same_kind':
        # narrowing is fine within a kind, and kinds may go up: bool < unsigned < signed < float < complex
        rank = {'b': 0, 'u': 1, 'i': 2, 'f': 3, 'c': 4}
        return promote_types(f, t) == t or rank[_d.kind(t)] >= rank[_d.kind(f)]
    raise ValueError(f"can_cast: casting must be 'no', 'equiv', 'safe', 'same_kind' or 'unsafe', got {casting!r}")


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
    """Whether `dtype` is of `kind`: a dtype, a kind name ('bool', 'signed integer', 'unsigned integer',
    'integral', 'real floating', 'complex floating', 'numeric') or a tuple of them.

    >>> import fn_dl.numpy as fnp
    >>> fnp.isdtype(fnp.bfloat16, 'real floating'), fnp.isdtype(fnp.uint8, ('bool', 'signed integer'))
    (True, False)
    """
    d = _d.canonicalize(dtype)
    if isinstance(kind, tuple):
        return any(isdtype(d, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r}; one of {sorted(_KINDS)}")
        return _KINDS[kind](d)
    return d == _d.canonicalize(kind)


def issubdtype(arg1, arg2):
    """NumPy's issubdtype: whether arg1 is below arg2 in NumPy's type hierarchy.

    >>> import fn_dl.numpy as fnp
    >>> fnp.issubdtype(fnp.float32, fnp.floating), fnp.issubdtype(fnp.int8, fnp.unsignedinteger)
    (True, False)
    """
    return np.issubdtype(_d.canonicalize(arg1) if not isinstance(arg1, type) else arg1,
                         arg2.dtype if isinstance(getattr(arg2, 'dtype', None), np.dtype) else arg2)


def astype(x, dtype, /, *, copy=True, device=None):
    """x converted to `dtype`: float to int truncates toward zero, complex to real keeps the real part.

    >>> import fn_dl.numpy as fnp
    >>> fnp.astype(fnp.asarray([1.7, -1.7]), fnp.int32).tolist()
    [1, -1]
    """
    from fn_dl.ops.elementwise import convert_element_type
    x = asarray(x)
    d = _d.canonicalize(dtype)
    return x if x.dtype == d else convert_element_type(x, d)


def iscomplexobj(x):
    """Whether x has a complex dtype (whatever its values).

    >>> import fn_dl.numpy as fnp
    >>> fnp.iscomplexobj(fnp.asarray([1 + 0j])), fnp.iscomplexobj(fnp.asarray([1.0]))
    (True, False)
    """
    return _d.is_complex(_as_dtype(x))


def isrealobj(x):
    """Whether x does not have a complex dtype.

    >>> import fn_dl.numpy as fnp
    >>> fnp.isrealobj(fnp.asarray([1.0])), fnp.isrealobj(1j)
    (True, False)
    """
    return not iscomplexobj(x)


def isscalar(element):
    """Whether `element` is a Python or NumPy scalar (a 0-d array is not one, as in NumPy).

    >>> import fn_dl.numpy as fnp
    >>> fnp.isscalar(3.0), fnp.isscalar(fnp.asarray(3.0))
    (True, False)
    """
    return np.isscalar(element)


class _Info:
    """What `fnp.__array_namespace_info__()` returns: the Array API inspection functions."""

    def capabilities(self):
        # eager arrays support boolean masks and data-dependent shapes (nonzero, unique); jit does not
        return {'boolean indexing': True, 'data-dependent shapes': True, 'max dimensions': None}

    def default_device(self):
        from fn_dl.backends import devices
        return devices()[0]

    def devices(self):
        from fn_dl.backends import devices
        return devices()

    def default_dtypes(self, *, device=None):
        return {'real floating': float32, 'complex floating': complex64, 'integral': int32, 'indexing': int32}

    def dtypes(self, *, device=None, kind=None):
        """The Array API dtypes of `kind` by name (float16 and bfloat16 are fn_dl's extras, not listed)."""
        names = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
                 'float32', 'float64', 'complex64', 'complex128')
        table = {n: globals()[n] for n in names}
        if kind is None:
            return table
        return {n: t for n, t in table.items() if isdtype(t, kind)}


def __array_namespace_info__():
    """The Array API inspection namespace: devices, default dtypes, supported dtypes, capabilities.

    >>> import fn_dl.numpy as fnp
    >>> fnp.__array_namespace_info__().default_dtypes()['real floating']
    fn_dl.numpy.float32
    """
    return _Info()


__all__ = ['__array_namespace_info__', 'bool_', 'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32',
           'uint64', 'float16', 'bfloat16', 'float32', 'float64', 'complex64', 'complex128', 'float_', 'int_', 'dtype',
           'generic',
           'number', 'integer', 'signedinteger', 'unsignedinteger', 'floating', 'complexfloating', 'inexact',
           'finfo', 'iinfo', 'result_type', 'promote_types', 'can_cast', 'isdtype', 'issubdtype', 'astype',
           'iscomplexobj', 'isrealobj', 'isscalar']
