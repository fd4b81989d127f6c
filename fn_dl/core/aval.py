"""Abstract values: what a tracer knows about the array it stands for."""
from __future__ import annotations

import math

import numpy as np

from fn_dl.core import dtypes


class ShapedArray:
    """Shape, dtype and weak type of an array, without its values."""
    __slots__ = ('shape', 'dtype', 'weak_type')

    def __init__(self, shape, dtype, weak_type=False):
        self.shape = shape if type(shape) is tuple else tuple(shape)
        self.dtype = dtype
        self.weak_type = weak_type

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    def update(self, shape=None, dtype=None, weak_type=None):
        return ShapedArray(self.shape if shape is None else shape,
                           self.dtype if dtype is None else dtype,
                           self.weak_type if weak_type is None else weak_type)

    def strong(self):
        return self if not self.weak_type else ShapedArray(self.shape, self.dtype, False)

    def __eq__(self, other):
        return (type(other) is ShapedArray and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self):
        return hash((self.shape, self.dtype, self.weak_type))

    def __repr__(self):
        return self.str_short()

    def str_short(self):
        shape = ','.join(map(str, self.shape))
        return f"{self.dtype.name}[{shape}]" + ('{weak}' if self.weak_type else '')


def shape_str(shape) -> str:
    return '(' + ', '.join(map(str, shape)) + (',)' if len(shape) == 1 else ')')


def describe(avals) -> str:
    """'float32(3, 4), int32(5,)' for error messages."""
    return ', '.join(f"{a.dtype.name}{shape_str(a.shape)}" for a in avals)


def aval_of_value(v) -> ShapedArray:
    """The aval of a raw backend value (np.ndarray, numpy scalar, cupy array)."""
    return ShapedArray(v.shape, v.dtype)


def aval_of_python_scalar(x) -> ShapedArray:
    return ShapedArray((), dtypes.python_scalar_dtype(x), True)


def zeros_value(aval: ShapedArray):
    return np.zeros(aval.shape, aval.dtype)
