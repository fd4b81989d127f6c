"""`Array`, the immutable array type, and `Tracer`, its stand-in under transforms.

An eager `Array` wraps one backend value (a NumPy or CuPy array) in `_value`.
A `Tracer` is an `Array` subclass that a transform hands to user code; it has
an abstract value (`aval`) instead of `_value`. Operators and methods are the
`fn_dl.numpy` functions, installed by `install_methods` when that namespace
is imported, so `a + b` calls `fnp.add` with no indirection.
"""
from __future__ import annotations

import numpy as np

from fn_dl.core.aval import ShapedArray, shape_str


class Array:
    """An immutable n-dimensional array.

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.asarray([1.0, 2.0, 3.0])
    >>> (x * 2).tolist()
    [2.0, 4.0, 6.0]
    >>> x.at[0].set(10.0).tolist()
    [10.0, 2.0, 3.0]
    """
    # _buf: the device buffer of a jit input/output, kept so the next jitted call needs no transfer; _lazy: its
    # (shape, dtype), set with _buf, which a jitted call's fast path reads as the array's signature.
    # A jit output starts with only _buf and _lazy; its host view, _value, is made on first use, because a
    # live host view stops XLA from updating a donated buffer in place.
    __slots__ = ('_value', '_buf', '_lazy', '__weakref__')
    __array_priority__ = 100  # numpy scalars/arrays defer to our operators

    def __init__(self, value):
        self._value = value

    def __getattr__(self, name):
        # only reached for unset slots: the host view of a jit output, made once on first use
        if name == '_value':
            try:
                buf = object.__getattribute__(self, '_buf')
            except AttributeError:
                raise AttributeError('_value') from None
            from fn_dl.backends.xla._pjrt import to_host
            value = to_host(buf)
            if value.dtype != self._lazy[1]:  # bfloat16 crosses DLPack as uint16 bits
                value = value.view(self._lazy[1])
            self._value = value
            return value
        raise AttributeError(name)

    # --- abstract properties --------------------------------------------
    @property
    def aval(self) -> ShapedArray:
        v = self._value
        return ShapedArray(v.shape, v.dtype)

    @property
    def shape(self) -> tuple:
        return self._value.shape

    @property
    def dtype(self) -> np.dtype:
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def weak_type(self) -> bool:
        return False

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    # --- conversion to Python and NumPy ---------------------------------
    def __array__(self, dtype=None, copy=None):
        v = np.asarray(self._host())
        if dtype is not None and v.dtype != dtype:
            if copy is False:
                raise ValueError(f"__array__: converting {v.dtype} to {np.dtype(dtype)} needs a copy, "
                                 f"but copy=False was asked for")
            return v.astype(dtype)
        return v.copy() if copy else v

    def _host(self):
        """The value as a NumPy array (copies from a GPU; zero-copy on CPU)."""
        v = self._value
        return v if isinstance(v, (np.ndarray, np.generic)) else _to_host(v)

    def block_until_ready(self):
        """Wait until a jitted computation producing this array has finished (XLA runs asynchronously)."""
        try:
            buf = object.__getattribute__(self, '_buf')  # not self._buf: an eager array would call __getattr__
        except AttributeError:
            return self
        buf.block_until_ready()
        return self

    def item(self):
        return self._host().item()

    def tolist(self):
        return np.asarray(self._host()).tolist()

    def __bool__(self):
        return bool(self._host())

    def __int__(self):
        return int(self._host())

    def __float__(self):
        return float(self._host())

    def __complex__(self):
        return complex(self._host())

    def __index__(self):
        from fn_dl.core import dtypes
        if not dtypes.is_integer(self.dtype) or self.ndim:
            raise TypeError(f"only 0-d integer arrays can be used as an index; got {self.dtype}{shape_str(self.shape)}")
        return int(self._host())

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        v = self._value
        if isinstance(v, np.generic):  # NumPy scalars do not export DLPack; 0-d arrays do
            v = np.asarray(v)
        if isinstance(v, np.ndarray) and not v.flags.writeable and (max_version is None or max_version < (1, 0)):
            # our values may be read-only views (broadcasts); DLPack before 1.0 cannot say so: export a copy
            v = v.copy()
        return v.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        v = self._value
        return (np.asarray(v) if isinstance(v, np.generic) else v).__dlpack_device__()

    def __array_namespace__(self, api_version=None):
        import fn_dl.numpy
        return fn_dl.numpy

    @property
    def device(self):
        from fn_dl.backends import device_of
        return device_of(self._value)

    def to_device(self, device, /, *, stream=None):
        from fn_dl.backends import device_put
        return device_put(self, device)

    def __repr__(self):
        body = np.array2string(np.asarray(self._host()), separator=', ', prefix='Array(')
        # an empty array prints as [], which does not say its shape (NumPy adds it too)
        shape = f", shape={self.shape}" if self.size == 0 and self.shape != (0,) else ''
        return f"Array({body}{shape}, dtype={self.dtype.name})"

    def __str__(self):
        return str(np.asarray(self._host()))

    def __format__(self, spec):
        return format(self._host().item() if not self.shape else np.asarray(self._host()), spec)

    # --- immutability ------------------------------------------------------
    def __setitem__(self, idx, value):
        raise TypeError(
            "fn_dl arrays are immutable: `x[idx] = v` is not supported. "
            "Use the functional update `x = x.at[idx].set(v)` (or .add/.multiply/.min/.max).")

    __hash__ = None  # like NumPy: arrays are not hashable

    def __reduce__(self):
        return (_rebuild, (np.asarray(self._host()),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    @property
    def at(self):
        return _IndexUpdateHelper(self)


class Tracer(Array):
    """An abstract stand-in for an Array inside a transform."""
    __slots__ = ('_trace',)

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError  # each transform's tracer class defines its aval

    @property
    def shape(self):
        return self.aval.shape

    @property
    def dtype(self):
        return self.aval.dtype

    @property
    def weak_type(self):
        return self.aval.weak_type

    @property
    def ndim(self):
        return len(self.shape)

    def to_concrete(self):
        """The concrete value this tracer stands for, or raise a clear error.

        JVP tracers over concrete values have one (so Python `if` works under
        eager grad); staged and batched tracers do not.
        """
        raise self._trace.concretization_error(self)

    def _host(self):
        return self.to_concrete()._host()

    def __repr__(self):
        return f"{type(self).__name__}<{self.aval.str_short()}>"

    def __str__(self):
        return repr(self)

    def __reduce__(self):
        raise TypeError(f"cannot pickle a {type(self).__name__}: it exists only inside a transform")


def _rebuild(value):
    return Array(value)


def _to_host(v):
    if hasattr(v, 'get'):  # CuPy
        return v.get()
    return np.from_dlpack(v)


class _IndexUpdateHelper:
    """`x.at[idx]`: functional indexed updates, as in JAX."""
    __slots__ = ('array',)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, idx):
        return _IndexUpdateRef(self.array, idx)


class _IndexUpdateRef:
    __slots__ = ('array', 'idx')

    def __init__(self, array, idx):
        self.array, self.idx = array, idx

    def get(self, **kwargs):
        from fn_dl.numpy import _indexing
        return _indexing.getitem(self.array, self.idx)

    def _update(self, mode, values):
        from fn_dl.numpy import _indexing
        return _indexing.index_update(self.array, self.idx, values, mode)

    def set(self, values, **kwargs):
        return self._update('set', values)

    def add(self, values, **kwargs):
        return self._update('add', values)

    def subtract(self, values, **kwargs):
        from fn_dl.numpy import negative
        return self._update('add', negative(values))

    def multiply(self, values, **kwargs):
        return self._update('mul', values)

    def divide(self, values, **kwargs):
        from fn_dl.numpy import reciprocal
        return self._update('mul', reciprocal(values))

    def min(self, values, **kwargs):
        return self._update('min', values)

    def max(self, values, **kwargs):
        return self._update('max', values)


_BINARY = {
    'add': 'add', 'sub': 'subtract', 'mul': 'multiply', 'truediv': 'divide',
    'floordiv': 'floor_divide', 'mod': 'remainder', 'pow': 'power', 'matmul': 'matmul',
    'and': 'bitwise_and', 'or': 'bitwise_or', 'xor': 'bitwise_xor',
    'lshift': 'bitwise_left_shift', 'rshift': 'bitwise_right_shift',
}
_COMPARE = {'eq': 'equal', 'ne': 'not_equal', 'lt': 'less', 'le': 'less_equal',
            'gt': 'greater', 'ge': 'greater_equal'}
_UNARY = {'neg': 'negative', 'pos': 'positive', 'abs': 'abs', 'invert': 'bitwise_invert'}
_METHODS = ('sum', 'prod', 'mean', 'std', 'var', 'max', 'min', 'argmax', 'argmin', 'all', 'any',
            'cumsum', 'cumprod', 'clip', 'round', 'conj', 'dot', 'flatten', 'ravel', 'squeeze',
            'transpose', 'swapaxes', 'repeat', 'take', 'nonzero', 'sort', 'argsort', 'trace',
            'diagonal', 'astype', 'reshape')


# what an operator accepts as its other operand; for anything else it returns NotImplemented, so Python
# asks the other operand (its __radd__, or falls back to identity for ==), as NumPy and JAX do
OPERANDS = (Array, bool, int, float, complex, np.ndarray, np.generic)


def _operator(f):
    """f as a binary operator; fn_dl.numpy's elementwise functions carry their own (f.operator), with the
    check out of their fast path."""
    own = getattr(f, 'operator', None)
    if own is not None:
        return own

    def op(self, other):
        return f(self, other) if isinstance(other, OPERANDS) else NotImplemented
    return op


def _reflected(f):
    def rop(self, other):
        return f(other, self) if isinstance(other, OPERANDS) else NotImplemented
    return rop


def _method(f):
    """f as a method that also takes NumPy's `out=None`: np.sum(x), np.mean(x), ... call x.sum(..., out=None)."""
    def method(self, *args, out=None, **kwargs):
        if out is not None:
            raise TypeError(f"{f.__name__}: out= is not supported, fn_dl arrays are immutable; use the returned array")
        return f(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = f.__name__
    method.__doc__ = f.__doc__
    return method


def install_methods(ns):
    """Install the operators and methods of Array from the fn_dl.numpy namespace `ns`."""
    for dunder, name in _BINARY.items():
        f = getattr(ns, name)
        setattr(Array, f'__{dunder}__', _operator(f))
        setattr(Array, f'__r{dunder}__', _reflected(f))
    for dunder, name in _COMPARE.items():
        setattr(Array, f'__{dunder}__', _operator(getattr(ns, name)))
    for dunder, name in _UNARY.items():
        setattr(Array, f'__{dunder}__', getattr(ns, name))
    Array.__divmod__ = _operator(ns.divmod)
    Array.__rdivmod__ = _reflected(ns.divmod)
    Array.__getitem__ = ns._indexing.getitem
    Array.__round__ = lambda self, ndigits=0: ns.round(self, decimals=ndigits)
    for name in _METHODS:
        f = getattr(ns, '_method_' + name, None) or getattr(ns, name, None)
        if f is not None:  # tests/test_array.py checks that every listed method is present
            setattr(Array, name, _method(f))
    Array.T = property(lambda self: ns.transpose(self))
    Array.mT = property(lambda self: ns.matrix_transpose(self))
    Array.real = property(ns.real)
    Array.imag = property(ns.imag)
