"""Parameter initialisation with PyTorch's formulas (torch.nn.init).

Two forms: `kaiming_uniform_(param, a=..., key=None)` re-initialises a
Parameter in place, PyTorch-style (eagerly, before training); the
functional `kaiming_uniform(key, shape, a=...)` returns a new array.
Without a key, draws come from the global stream seeded by fd.random.seed(n).
"""
from __future__ import annotations

import math

import numpy as np

from fn_dl.core import dtypes


def _key(key):
    from fn_dl import random
    return random.next_key() if key is None else key


def calculate_gain(nonlinearity, param=None):
    """torch.nn.init.calculate_gain."""
    linear = ('linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
              'sigmoid')
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == 'tanh':
        return 5.0 / 3
    if nonlinearity == 'relu':
        return math.sqrt(2.0)
    if nonlinearity == 'leaky_relu':
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == 'selu':
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fans(shape):
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need at least 2 dimensions, got shape {tuple(shape)}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(shape, mode):
    fan_in, fan_out = _fans(shape)
    if mode not in ('fan_in', 'fan_out'):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == 'fan_in' else fan_out


def uniform(key, shape, a=0.0, b=1.0, dtype=dtypes.float32):
    """U(a, b) samples of `shape`.

    >>> import fn_dl as fd
    >>> from fn_dl.nn import init
    >>> init.uniform(fd.random.key(0), (2, 3), -1.0, 1.0).shape
    (2, 3)
    """
    from fn_dl import random
    return random.uniform(_key(key), tuple(shape), dtype, a, b)


def normal(key, shape, mean=0.0, std=1.0, dtype=dtypes.float32):
    from fn_dl import random
    return random.normal(_key(key), tuple(shape), dtype) * std + mean


def trunc_normal(key, shape, mean=0.0, std=1.0, a=-2.0, b=2.0, dtype=dtypes.float32):
    """Normal(mean, std) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_)."""
    from fn_dl import random
    lo, hi = (a - mean) / std, (b - mean) / std
    return random.truncated_normal(_key(key), lo, hi, tuple(shape), dtype) * std + mean


def xavier_uniform(key, shape, gain=1.0, dtype=dtypes.float32):
    fan_in, fan_out = _fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(key, shape, -bound, bound, dtype)


def xavier_normal(key, shape, gain=1.0, dtype=dtypes.float32):
    fan_in, fan_out = _fans(shape)
    return normal(key, shape, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), dtype)


def kaiming_uniform(key, shape, a=0.0, mode='fan_in', nonlinearity='leaky_relu', dtype=dtypes.float32):
    """He uniform init; with a=sqrt(5) it is PyTorch's default for Linear and Conv weights."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(shape, mode))
    return uniform(key, shape, -bound, bound, dtype)


def kaiming_normal(key, shape, a=0.0, mode='fan_in', nonlinearity='leaky_relu', dtype=dtypes.float32):
    return normal(key, shape, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(shape, mode)), dtype)


def orthogonal(key, shape, gain=1.0, dtype=dtypes.float32):
    """A (semi-)orthogonal matrix of `shape` (flattened after the first axis), times gain."""
    from fn_dl import random
    from fn_dl.numpy import reshape
    rows, cols = shape[0], int(np.prod(shape[1:]))
    m = random.orthogonal(_key(key), max(rows, cols), dtype=dtype)[:rows, :cols]
    return reshape(m * gain, shape)


def constant(shape, val, dtype=dtypes.float32):
    from fn_dl.numpy import full
    return full(tuple(shape), val, dtype)


def zeros(shape, dtype=dtypes.float32):
    return constant(shape, 0.0, dtype)


def ones(shape, dtype=dtypes.float32):
    return constant(shape, 1.0, dtype)


def eye(shape, dtype=dtypes.float32):
    from fn_dl.numpy import eye as _eye
    if len(shape) != 2:
        raise ValueError(f"eye_: needs a 2-d parameter, got shape {tuple(shape)}")
    return _eye(shape[0], shape[1], dtype=dtype)


def dirac(shape, groups=1, dtype=dtypes.float32):
    """The identity of a convolution: weight (out, in, *kernel) with 1 at [g * out_per_group + d, d, centre]
    for each of the `groups` groups and d < min(out_per_group, in), as torch.nn.init.dirac_.

    >>> from fn_dl.nn import init
    >>> init.dirac((2, 2, 3)).tolist()
    [[[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]
    """
    from fn_dl.numpy import asarray
    shape = tuple(shape)
    if len(shape) not in (3, 4, 5):
        raise ValueError(f"dirac_: only parameters with 3, 4, or 5 dimensions are supported, got shape {shape}")
    if shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({shape[0]}) must be divisible by groups ({groups})")
    per_group = shape[0] // groups
    d = np.arange(min(per_group, shape[1]))
    out = np.zeros(shape, dtypes.canonicalize(dtype))
    rows = (np.arange(groups)[:, None] * per_group + d).ravel()
    out[(rows, np.tile(d, groups)) + tuple(k // 2 for k in shape[2:])] = 1
    return asarray(out)


def sparse(key, shape, sparsity, std=0.01, dtype=dtypes.float32):
    """N(0, std) values of a 2-d shape (rows, cols) with ceil(sparsity * rows) zeros at random rows of every
    column, as torch.nn.init.sparse_ (Martens, 2010).

    >>> import fn_dl as fd
    >>> from fn_dl.nn import init
    >>> w = init.sparse(fd.random.key(0), (10, 3), 0.3)
    >>> (w == 0).sum(axis=0).tolist()
    [3, 3, 3]
    """
    from fn_dl import random
    from fn_dl.numpy import argsort, where
    shape = tuple(shape)
    if len(shape) != 2:
        raise ValueError(f"sparse_: only 2-d parameters are supported, got shape {shape}")
    rows = shape[0]
    k_values, k_rows = random.split(_key(key))
    # a random permutation of the rows per column: the ranks of uniform draws; the first ceil(sparsity * rows)
    # ranks are zeroed
    ranks = argsort(argsort(random.uniform(k_rows, shape), axis=0), axis=0)
    return where(ranks < math.ceil(sparsity * rows), 0, normal(k_values, shape, 0.0, std, dtype)).astype(dtype)


def _in_place(fn, takes_key=True):
    """The PyTorch-style in-place form: re-initialise a Parameter's value, return it."""
    def init_(tensor, *args, key=None, **kwargs):
        from fn_dl.nn._module import Parameter
        if not isinstance(tensor, Parameter):
            raise TypeError(f"nn.init.{fn.__name__}_ re-initialises an nn.Parameter in place; for a new array use "
                            f"nn.init.{fn.__name__}(key, shape, ...)")
        new = fn(_key(key), tensor.shape, *args, dtype=tensor.dtype, **kwargs) if takes_key else \
            fn(tensor.shape, *args, dtype=tensor.dtype, **kwargs)
        tensor._value = new._value
        return tensor
    init_.__name__ = init_.__qualname__ = fn.__name__ + '_'
    init_.__doc__ = f"In place: {fn.__name__} into an nn.Parameter (PyTorch's nn.init.{fn.__name__}_)."
    return init_


uniform_ = _in_place(uniform)
normal_ = _in_place(normal)
trunc_normal_ = _in_place(trunc_normal)
xavier_uniform_ = _in_place(xavier_uniform)
xavier_normal_ = _in_place(xavier_normal)
kaiming_uniform_ = _in_place(kaiming_uniform)
kaiming_normal_ = _in_place(kaiming_normal)
orthogonal_ = _in_place(orthogonal)
constant_ = _in_place(constant, takes_key=False)
zeros_ = _in_place(zeros, takes_key=False)
ones_ = _in_place(ones, takes_key=False)
eye_ = _in_place(eye, takes_key=False)
dirac_ = _in_place(dirac, takes_key=False)
sparse_ = _in_place(sparse)
