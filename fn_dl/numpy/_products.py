"""Products: matmul, dot, tensordot, vecdot, inner, outer, vdot (dot_general) and kron (a broadcast multiply)."""
from __future__ import annotations

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.aval import shape_str
from fn_dl.core.array import Array
from fn_dl.numpy._util import asarray, broadcast_shapes, normalize_axis, promote
from fn_dl.ops import shape as sh
from fn_dl.ops.dot import dot_general


def _check_numeric(name, *xs):
    for x in xs:
        if dtypes.is_bool(x.dtype):
            raise TypeError(f"{name}: boolean arrays are not supported; cast with .astype(fnp.int32)")


_MATRIX_PRODUCT = (((1,), (0,)), ((), ()))


def matmul(x1, x2, /):
    """Matrix product with NumPy's rules: 1-d operands are vectors, leading axes broadcast.

    >>> import fn_dl.numpy as fnp
    >>> (fnp.ones((2, 3)) @ fnp.ones((3, 4))).shape
    (2, 4)
    """
    if isinstance(x1, Array) and isinstance(x2, Array) and x1.ndim == 2 and x2.ndim == 2:
        d = x1.dtype  # the common case, matrix times matrix of one numeric dtype: straight to the contraction
        if d == x2.dtype and d != dtypes.bool_ and x1.shape[1] == x2.shape[0]:
            return dot_general(x1, x2, _MATRIX_PRODUCT)
    x1, x2 = promote('matmul', x1, x2)
    _check_numeric('matmul', x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-d, got shapes {shape_str(x1.shape)} and "
                         f"{shape_str(x2.shape)}; use multiply for scalars")
    k1, k2 = x1.shape[-1], x2.shape[0 if x2.ndim == 1 else -2]
    if k1 != k2:
        raise ValueError(f"matmul: {shape_str(x1.shape)} @ {shape_str(x2.shape)}: contracting dimensions "
                         f"{k1} and {k2} differ")
    if x2.ndim == 1 and (x1.ndim <= 2):
        # vector or matrix times a vector: one contraction, no reshapes around it (they would multiply under
        # every transform, e.g. in a Hessian-vector product)
        return dot_general(x1, x2, (((x1.ndim - 1,), (0,)), ((), ())))
    if x1.ndim == 1 and x2.ndim == 2:
        return dot_general(x1, x2, (((0,), (0,)), ((), ())))
    a = x1 if x1.ndim > 1 else sh.reshape(x1, (1,) + x1.shape)
    b = x2 if x2.ndim > 1 else sh.reshape(x2, x2.shape + (1,))
    if a.ndim == 2 and b.ndim == 2:
        out = dot_general(a, b, (((1,), (0,)), ((), ())))
    elif b.ndim == 2:
        # a stack of matrices times one matrix: a single 2-d contraction (no broadcasting of b)
        out = dot_general(a, b, (((a.ndim - 1,), (0,)), ((), ())))
    else:
        batch = broadcast_shapes('matmul', a.shape[:-2], b.shape[:-2])
        a = sh.broadcast_in_dim(a, batch + a.shape[-2:], tuple(range(len(batch) - a.ndim + 2, len(batch) + 2)))
        b = sh.broadcast_in_dim(b, batch + b.shape[-2:], tuple(range(len(batch) - b.ndim + 2, len(batch) + 2)))
        nb = len(batch)
        out = dot_general(a, b, (((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb)))))
    if x1.ndim == 1:
        out = sh.squeeze(out, (out.ndim - 2,))
    if x2.ndim == 1:
        out = sh.squeeze(out, (out.ndim - 1,))
    return out


def matvec(x1, x2, /):
    """Matrix-vector products of stacks: (..., m, n) with (..., n) gives (..., m), the stacks broadcast.

    >>> import fn_dl.numpy as fnp
    >>> fnp.matvec(fnp.asarray([[1, 2], [3, 4]]), fnp.asarray([1, 1])).tolist()
    [3, 7]
    """
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim < 2 or x2.ndim < 1:
        raise ValueError(f"matvec: needs matrices (..., m, n) and vectors (..., n), got shapes "
                         f"{shape_str(x1.shape)} and {shape_str(x2.shape)}")
    out = matmul(x1, sh.reshape(x2, x2.shape + (1,)))
    return sh.squeeze(out, (out.ndim - 1,))


def vecmat(x1, x2, /):
    """Vector-matrix products of stacks, conjugating the vectors: (..., n) with (..., n, m) gives (..., m).

    >>> import fn_dl.numpy as fnp
    >>> fnp.vecmat(fnp.asarray([1, 1]), fnp.asarray([[1, 2], [3, 4]])).tolist()
    [4, 6]
    """
    from fn_dl.numpy._elementwise import conj
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim < 1 or x2.ndim < 2:
        raise ValueError(f"vecmat: needs vectors (..., n) and matrices (..., n, m), got shapes "
                         f"{shape_str(x1.shape)} and {shape_str(x2.shape)}")
    out = matmul(sh.reshape(conj(x1), x1.shape[:-1] + (1,) + x1.shape[-1:]), x2)
    return sh.squeeze(out, (out.ndim - 2,))


def tensordot(x1, x2, /, axes=2):
    """Sum of products over the last `axes` axes of x1 and the first `axes` of x2, or over explicit axis lists.

    >>> import fn_dl.numpy as fnp
    >>> fnp.tensordot(fnp.ones((2, 3, 4)), fnp.ones((3, 4, 5)), axes=2).shape
    (2, 5)
    >>> fnp.tensordot(fnp.ones((2, 3)), fnp.ones((4, 2)), axes=((0,), (1,))).shape
    (3, 4)
    """
    x1, x2 = promote('tensordot', x1, x2)
    if isinstance(axes, (int, np.integer)):
        a1 = tuple(range(x1.ndim - axes, x1.ndim))
        a2 = tuple(range(axes))
    else:
        a1, a2 = axes
        a1 = (a1,) if isinstance(a1, int) else tuple(a1)
        a2 = (a2,) if isinstance(a2, int) else tuple(a2)
    if len(a1) != len(a2):
        raise ValueError(f"tensordot: axes {a1} of x1 and {a2} of x2 must pair up (equal lengths)")
    a1 = tuple(normalize_axis('tensordot', a, x1.ndim) for a in a1)
    a2 = tuple(normalize_axis('tensordot', a, x2.ndim) for a in a2)
    for i, j in zip(a1, a2):
        if x1.shape[i] != x2.shape[j]:
            raise ValueError(f"tensordot: axis {i} of {shape_str(x1.shape)} and axis {j} of "
                             f"{shape_str(x2.shape)} differ in size")
    return dot_general(x1, x2, ((a1, a2), ((), ())))


def vecdot(x1, x2, /, *, axis=-1):
    """sum(conj(x1) * x2) along `axis`, the other axes broadcast.

    >>> import fn_dl.numpy as fnp
    >>> fnp.vecdot(fnp.asarray([[1.0, 2.0], [3.0, 4.0]]), fnp.asarray([1.0, 1.0])).tolist()
    [3.0, 7.0]
    """
    from fn_dl.numpy._elementwise import conj
    x1, x2 = promote('vecdot', x1, x2)
    shape = broadcast_shapes('vecdot', x1.shape, x2.shape)
    ax = normalize_axis('vecdot', axis, len(shape))
    if x1.ndim and x2.ndim and x1.shape[axis] != x2.shape[axis]:
        raise ValueError(f"vecdot: axis {axis} sizes differ: {shape_str(x1.shape)} and {shape_str(x2.shape)}")
    from fn_dl.numpy._util import broadcast_to_shape
    a, b = broadcast_to_shape(conj(x1), shape), broadcast_to_shape(x2, shape)
    batch = tuple(i for i in range(len(shape)) if i != ax)
    return dot_general(a, b, (((ax,), (ax,)), (batch, batch)))


def dot(a, b):
    """NumPy's dot: matmul for 1-d/2-d, multiply for scalars, sum over a's last and b's second-to-last axis.

    >>> import fn_dl.numpy as fnp
    >>> fnp.dot(fnp.asarray([1, 2]), fnp.asarray([3, 4])).item()
    11
    """
    a, b = promote('dot', a, b)
    if a.ndim == 0 or b.ndim == 0:
        from fn_dl.numpy._elementwise import multiply
        return multiply(a, b)
    if b.ndim == 1:
        return tensordot(a, b, axes=((a.ndim - 1,), (0,)))
    return tensordot(a, b, axes=((a.ndim - 1,), (b.ndim - 2,)))


def inner(a, b):
    """Sum of products over the last axes of a and b (multiply for scalars).

    >>> import fn_dl.numpy as fnp
    >>> fnp.inner(fnp.asarray([[1, 2], [3, 4]]), fnp.asarray([1, 1])).tolist()
    [3, 7]
    """
    a, b = promote('inner', a, b)
    if a.ndim == 0 or b.ndim == 0:
        from fn_dl.numpy._elementwise import multiply
        return multiply(a, b)
    return tensordot(a, b, axes=((a.ndim - 1,), (b.ndim - 1,)))


def outer(x1, x2, /):
    """The outer product of the flattened x1 and x2.

    >>> import fn_dl.numpy as fnp
    >>> fnp.outer(fnp.asarray([1, 2]), fnp.asarray([3, 4, 5])).tolist()
    [[3, 4, 5], [6, 8, 10]]
    """
    x1, x2 = promote('outer', x1, x2)
    from fn_dl.numpy._manipulation import ravel
    return tensordot(ravel(x1), ravel(x2), axes=0)


def vdot(a, b):
    """sum(conj(a) * b) over the flattened arrays.

    >>> import fn_dl.numpy as fnp
    >>> fnp.vdot(fnp.asarray([1j, 2]), fnp.asarray([1j, 3])).item()
    (7+0j)
    """
    from fn_dl.numpy._elementwise import conj
    from fn_dl.numpy._manipulation import ravel
    a, b = promote('vdot', a, b)
    return tensordot(conj(ravel(a)), ravel(b), axes=1)


def kron(a, b):
    """The Kronecker product: blocks a[i, j] * b.

    >>> import fn_dl.numpy as fnp
    >>> fnp.kron(fnp.asarray([1, 10]), fnp.asarray([1, 2])).tolist()
    [1, 2, 10, 20]
    """
    a, b = promote('kron', asarray(a), asarray(b))
    nd = max(a.ndim, b.ndim)
    a = sh.reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = sh.reshape(b, (1,) * (nd - b.ndim) + b.shape)
    from fn_dl.numpy._elementwise import multiply
    a_ex = sh.reshape(a, sum(((s, 1) for s in a.shape), ()))
    b_ex = sh.reshape(b, sum(((1, s) for s in b.shape), ()))
    return sh.reshape(multiply(a_ex, b_ex), tuple(x * y for x, y in zip(a.shape, b.shape)))


__all__ = ['matmul', 'matvec', 'vecmat', 'tensordot', 'vecdot', 'dot', 'inner', 'outer', 'vdot', 'kron']
