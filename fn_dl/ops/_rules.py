"""Rule helpers shared by families of primitives.

A primitive module defines each primitive in a few lines by combining these:
`elementwise(...)` makes an n-ary elementwise primitive with its shape rule,
batching rule and lowering name; `defjvp` attaches per-argument JVPs;
`deflinear` makes a linear primitive's JVP from its transpose.
"""
from __future__ import annotations

from fn_dl.core import dtypes
from fn_dl.core.ad_util import UndefinedPrimal, Zero, is_undefined
from fn_dl.core.aval import ShapedArray, describe
from fn_dl.core.primitive import Primitive

# the primitive modules build on these helpers, and some helpers bind their primitives: reached through the
# package at call time (an import statement in a helper would run the import machinery on every call)
import fn_dl.ops as _ops  # noqa: E402

__all__ = ['Primitive', 'ShapedArray', 'Zero', 'UndefinedPrimal', 'is_undefined', 'elementwise',
           'ufunc_impl', 'defjvp', 'defjvp2', 'deflinear', 'add_tangents', 'instantiate', 'zeros_like_aval',
           'broadcast_batcher', 'bdim_at_front', 'move_bdim', 'moveaxis', 'skip_bdim', 'not_mapped', 'FLOAT',
           'NUMERIC', 'INT', 'INT_OR_BOOL', 'ALL', 'INEXACT', 'REAL']

FLOAT = frozenset(dtypes.FLOATING)
INEXACT = frozenset(dtypes.FLOATING + dtypes.COMPLEX)
INT = frozenset(dtypes.INTEGER)
INT_OR_BOOL = frozenset(dtypes.INTEGER + (dtypes.bool_,))
NUMERIC = frozenset(dtypes.INTEGER + dtypes.FLOATING + dtypes.COMPLEX)
REAL = frozenset(dtypes.INTEGER + dtypes.FLOATING)
ALL = frozenset(dtypes.ALL)

_KIND_NAMES = {FLOAT: 'floating', INEXACT: 'floating or complex', INT: 'integer',
               INT_OR_BOOL: 'integer or bool', NUMERIC: 'numeric', REAL: 'real (integer or floating)',
               ALL: 'any'}

not_mapped = None


# --- elementwise family -------------------------------------------------------

def elementwise(name, impl, *, allowed=NUMERIC, out_dtype=None, hlo=None, differentiable=True):
    """An elementwise primitive over operands of equal shape and dtype.

    `impl(xp, *values)` computes it on a backend, or `impl` names the
    backend's ufunc that does (see `ufunc_impl`); `out_dtype` (default: the
    operand dtype) maps the operand dtype to the result's; `hlo` names the
    StableHLO op it lowers to.
    """
    if isinstance(impl, str):
        impl = ufunc_impl(impl, out_dtype)
    prim = Primitive(name, differentiable=differentiable)
    kinds = _KIND_NAMES.get(allowed, ', '.join(sorted(d.name for d in allowed)))

    def abstract_eval(*avals, **params):
        shape, dtype = avals[0].shape, avals[0].dtype
        for a in avals[1:]:
            if a.shape != shape:
                raise ValueError(f"{name}: operands must have equal shapes, got {describe(avals)}; "
                                 f"broadcast them first (fn_dl.numpy functions do)")
            if a.dtype != dtype:
                raise TypeError(f"{name}: operands must have equal dtypes, got {describe(avals)}; "
                                f"promote them first (fn_dl.numpy functions do)")
        if dtype not in allowed:
            raise TypeError(f"{name}: operands must be {kinds}, got {describe(avals)}")
        if out_dtype is not None:
            return ShapedArray(shape, out_dtype(dtype), False)
        return ShapedArray(shape, dtype, all([a.weak_type for a in avals]))

    prim.impl = impl
    prim.abstract_eval = abstract_eval
    prim.batch = broadcast_batcher(prim)
    prim.lower = hlo  # a StableHLO op name; the xla backend's generic elementwise lowering uses it
    if not differentiable:
        prim.jvp = _zero_jvp(prim)
    return prim


def ufunc_impl(ufunc, out_dtype=None):
    """The impl of an elementwise primitive that is the backend namespace's ufunc named `ufunc`.

    A large result is written into `xp.output_buffer` (a reused buffer, see
    fn_dl.backends._host_buffers) rather than fresh memory, which would be
    page-faulted in on every call. The operands have one dtype and shape, or
    one is a scalar of the other's dtype (fn_dl.numpy's `x * 2.0`), so the
    larger operand fixes the result's shape.
    """
    import numpy as np
    nin = getattr(np, ufunc).nin

    def unary(xp, x):
        f = getattr(xp, ufunc)
        if x.nbytes < xp.OUTPUT_BUFFER_MIN:
            return f(x)
        return f(x, out=xp.output_buffer(x.shape, out_dtype(x.dtype) if out_dtype else x.dtype))

    def binary(xp, x, y):
        f = getattr(xp, ufunc)
        big = x if x.nbytes >= y.nbytes else y
        if big.nbytes < xp.OUTPUT_BUFFER_MIN:
            return f(x, y)
        return f(x, y, out=xp.output_buffer(big.shape, out_dtype(big.dtype) if out_dtype else big.dtype))
    impl = {1: unary, 2: binary}[nin]
    impl.__name__ = impl.__qualname__ = ufunc
    return impl


def _zero_jvp(prim):
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        outs = out if prim.multiple_results else [out]
        zs = [Zero(o.aval) for o in outs]
        return out, (zs if prim.multiple_results else zs[0])
    return jvp


def defjvp(prim, *fns):
    """JVP as a sum over arguments: fns[i](g_i, *primals, **params) is arg i's contribution (None: none)."""
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        t_out = None
        for fn, t in zip(fns, tangents):
            if fn is not None and type(t) is not Zero:
                t_out = add_tangents(t_out, fn(t, *primals, **params))
        return out, (Zero(out.aval) if t_out is None else t_out)
    prim.jvp = jvp
    return jvp


def defjvp2(prim, *fns):
    """Like `defjvp`, but fns[i](g_i, ans, *primals, **params) also gets the primal output."""
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        t_out = None
        for fn, t in zip(fns, tangents):
            if fn is not None and type(t) is not Zero:
                t_out = add_tangents(t_out, fn(t, out, *primals, **params))
        return out, (Zero(out.aval) if t_out is None else t_out)
    prim.jvp = jvp
    return jvp


def deflinear(prim, transpose):
    """A primitive linear in all its array operands: its JVP applies it to the tangents."""
    def jvp(primals, tangents, **params):
        out = prim.bind(*primals, **params)
        if all(type(t) is Zero for t in tangents):
            t_out = [Zero(o.aval) for o in out] if prim.multiple_results else Zero(out.aval)
        else:
            t_out = prim.bind(*[instantiate(t) for t in tangents], **params)
        return out, t_out
    prim.jvp = jvp
    prim.def_transpose(transpose)
    return prim


def add_tangents(a, b):
    if a is None or type(a) is Zero:
        return b
    if b is None or type(b) is Zero:
        return a
    return _ops.elementwise.add_p.bind(a, b)


def zeros_like_aval(aval: ShapedArray):
    return _ops.shape.full(aval.shape, 0, aval.dtype)


def instantiate(t):
    return zeros_like_aval(t.aval) if type(t) is Zero else t


# --- batching helpers -----------------------------------------------------------

def moveaxis(x, src: int, dst: int):
    if src == dst:
        return x
    perm = [i for i in range(x.ndim) if i != src]
    perm.insert(dst, src)
    return _ops.shape.transpose(x, tuple(perm))


def skip_bdim(axes, bdim):
    """Per-example axis numbers -> the same axes of a value batched along axis `bdim`."""
    return tuple(a + (a >= bdim) for a in axes)


def bdim_at_front(x, d, size):
    """x with its batch dimension first; an unbatched x is broadcast to `size`."""
    return move_bdim(x, d, size, 0)


def move_bdim(x, d, size, axis):
    """x with its batch dimension at `axis`; an unbatched x (d None) is broadcast to `size` there (a view)."""
    if d is not None:
        return moveaxis(x, d, axis)
    shape = list(x.shape)
    shape.insert(axis, size)
    return _ops.shape.broadcast_in_dim(x, tuple(shape), tuple(i for i in range(len(shape)) if i != axis))


def broadcast_batcher(prim):
    """vmap rule of an elementwise primitive: every operand gets its batch axis where the first batched one has
    it, so that no operand is transposed when they agree and unbatched ones are merely broadcast."""
    def batch(args, dims, **params):
        d0 = next(d for d in dims if d is not None)
        if dims.count(d0) != len(dims):
            size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
            args = [move_bdim(a, d, size, d0) for a, d in zip(args, dims)]
        return prim.bind(*args, **params), d0
    return batch
