"""Conversions, promotion and broadcasting shared by the fn_dl.numpy functions."""
from __future__ import annotations

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import Array
from fn_dl.core.aval import shape_str
from fn_dl.ops.elementwise import convert_element_type
from fn_dl.ops.shape import broadcast_in_dim

_PY_SCALARS = (bool, int, float, complex)
_INT32_MIN, _INT32_MAX = -2 ** 31, 2 ** 31 - 1


def _default_dtype_for(value: np.ndarray) -> np.dtype:
    """fn_dl's defaults for data that came from Python (lists, scalars): 32-bit."""
    k = value.dtype.kind
    if k == 'f':
        return dtypes.default_float
    if k == 'c':
        return dtypes.default_complex
    if k in 'iu':
        if value.size and (value.min() < _INT32_MIN or value.max() > _INT32_MAX):
            return value.dtype  # does not fit int32: keep 64-bit rather than wrap
        return dtypes.default_int
    return value.dtype


def _wide_int_dtype(x: int) -> np.dtype:
    """The dtype of a Python int outside int32: int64, or uint64 above it (as NumPy)."""
    if -2 ** 63 <= x < 2 ** 63:
        return dtypes.int64
    if 0 <= x < 2 ** 64:
        return dtypes.uint64
    raise OverflowError(f"asarray: Python int {x} does not fit in any fn_dl integer dtype (int64 or uint64)")


def _contains_array(obj) -> bool:
    if isinstance(obj, Array):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_array(o) for o in obj)
    return False


def asarray(obj, dtype=None, *, copy=None, device=None):
    """Convert to an fn_dl Array (immutable). Python data defaults to float32/int32; NumPy arrays keep
    their dtype.

    >>> import fn_dl.numpy as fnp
    >>> fnp.asarray([1, 2]).dtype, fnp.asarray([1.5]).dtype
    (dtype('int32'), dtype('float32'))
    """
    if dtype is not None:
        dtype = dtypes.canonicalize(dtype)
    if isinstance(obj, Array):
        if dtype is None or obj.dtype == dtype:
            return obj
        return convert_element_type(obj, dtype)
    if isinstance(obj, (list, tuple)) and _contains_array(obj):
        # stacked with primitives, so tracers work and the Arrays' dtypes promote as everywhere else
        from fn_dl.numpy._manipulation import stack
        return stack([asarray(o, dtype) for o in obj])
    if isinstance(obj, _PY_SCALARS) and not isinstance(obj, np.generic):  # np.float64 subclasses float
        if dtype is None:
            dtype = dtypes.python_scalar_dtype(obj)
            if dtype == dtypes.int32 and not _INT32_MIN <= obj <= _INT32_MAX:
                dtype = _wide_int_dtype(obj)
        return Array(np.asarray(obj, dtype=dtype))
    # only Python containers take fn_dl's 32-bit defaults; arrays and buffers keep their dtype
    from_python = isinstance(obj, (list, tuple, range))
    if not from_python and not hasattr(obj, '__array__') and hasattr(obj, '__dlpack__'):
        value = np.from_dlpack(obj)
    else:
        value = np.asarray(obj)
    if value.dtype == object:
        raise TypeError(f"asarray: cannot convert {type(obj).__name__} to an array (it gives dtype object)")
    if dtype is None:
        dtype = dtypes.canonicalize(_default_dtype_for(value) if from_python else value.dtype)
    if copy is False and value.dtype != dtype:
        raise ValueError(f"asarray: copy=False but converting {value.dtype} to {dtype} needs a copy")
    if value.dtype != dtype:
        if value.dtype.kind == 'c' and dtype.kind != 'c':
            value = value.real  # as convert_element_type does (and XLA): the real part, without NumPy's warning
        value = value.astype(dtype)
    elif copy is not False and not from_python:
        value = value.copy()  # the caller keeps its mutable array; ours must not change under it
    return Array(value)


array = asarray


def typed(x, name='fn_dl.numpy'):
    """(dtype, weak) of an operand; Python scalars are weak. `name` is the function, for the error."""
    if isinstance(x, Array):
        return x.dtype, x.weak_type
    if isinstance(x, (np.ndarray, np.generic)):  # NumPy scalars are strongly typed (NEP 50)
        return dtypes.canonicalize(x.dtype), False
    if isinstance(x, _PY_SCALARS):
        return dtypes.python_scalar_dtype(x), True
    raise TypeError(f"{name}: expected an array or a Python number, got {type(x).__name__}; "
                    f"convert other data with fnp.asarray")


def to_dtype(name, x, dtype):
    """x as an Array of `dtype` (Python scalars converted, checked for range)."""
    if isinstance(x, Array):
        return x if x.dtype == dtype else convert_element_type(x, dtype)
    if isinstance(x, _PY_SCALARS):
        if dtypes.is_integer(dtype) and isinstance(x, int) and not isinstance(x, bool):
            info = np.iinfo(dtype)
            if not info.min <= x <= info.max:
                raise OverflowError(f"{name}: Python int {x} does not fit in {dtype}")
        if isinstance(x, complex) and not dtypes.is_complex(dtype):
            raise TypeError(f"{name}: cannot combine a complex Python scalar with a {dtype} array")
        return Array(np.asarray(x, dtype=dtype))
    return asarray(x, dtype)


def promote(name, *args):
    """Arrays of the promoted dtype (weak Python scalars take the arrays' dtype)."""
    if all(isinstance(a, Array) for a in args):  # the common case under transforms: one dtype, nothing to do
        dt = args[0].dtype
        if all(a.dtype == dt for a in args):
            return list(args)
    dt, _ = dtypes.result_type(*[typed(a, name) for a in args])
    return [to_dtype(name, a, dt) for a in args]


def broadcast_shapes(name, *shapes):
    if len(shapes) == 2:  # the usual case (binary operators), without the general case's set building
        a, b = shapes
        if len(a) < len(b):
            a, b = b, a
        lead, out = len(a) - len(b), list(a)
        for i, d in enumerate(b):
            e = a[lead + i]
            if d != e and d != 1:
                if e != 1:
                    break  # incompatible: the general case below words the error
                out[lead + i] = d
        else:
            return tuple(out)
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        sizes = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"{name}: shapes {', '.join(map(shape_str, shapes))} cannot be broadcast together "
                             f"(axis {i - ndim} has sizes {sorted(sizes)})")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_to_shape(x, shape):
    if x.shape == shape:
        return x
    nlead = len(shape) - x.ndim
    return broadcast_in_dim(x, shape, tuple(range(nlead, len(shape))))


def promote_broadcast(name, *args):
    """Promote dtypes, then broadcast shapes: ready for an elementwise primitive."""
    args = promote(name, *args)
    shapes = [a.shape for a in args]
    if all(s == shapes[0] for s in shapes):
        return args
    shape = broadcast_shapes(name, *shapes)
    return [broadcast_to_shape(a, shape) for a in args]


def check_arrays(name, *args):
    for a in args:
        if not isinstance(a, Array):
            raise TypeError(f"{name}: expected an array, got {type(a).__name__}")


class AxisError(ValueError, IndexError):
    """An axis out of range. A ValueError as in NumPy and an IndexError as the Array API asks."""


def normalize_axis(name, axis, ndim):
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {type(axis).__name__}")
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise AxisError(f"{name}: axis {axis} is out of bounds for an array of rank {ndim}")
    return int(axis) % max(ndim, 1)


def normalize_axes(name, axis, ndim):
    """None -> all axes; int or tuple -> sorted tuple of non-negative axes (duplicates are an error)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = axis
    else:
        raise TypeError(f"{name}: axis must be an int, a tuple of ints or None, got {type(axis).__name__}")
    out = tuple(sorted(normalize_axis(name, a, ndim) for a in axes))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis}")
    return out


__all__ = ['asarray', 'array']
