"""Statistics: cumulative sums and products, differences, NaN-ignoring reductions, quantiles,
covariance, histograms, closeness tests, interpolation and integration.

All compositions: cumulative ops are the `fn_dl.ops.cumulative` primitives,
quantiles sort and gather, histograms search the bin edges and scatter-add.
"""
from __future__ import annotations

import builtins

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import Array, Tracer
from fn_dl.core.aval import shape_str
from fn_dl.numpy import _elementwise as el
from fn_dl.numpy import _reductions as rd
from fn_dl.numpy._manipulation import broadcast_to, concatenate, diagonal, moveaxis, ravel
from fn_dl.numpy._sorting import _arrays, _concrete_int, searchsorted, sort
from fn_dl.numpy._util import asarray, broadcast_shapes, normalize_axes, normalize_axis, promote, to_dtype
from fn_dl.ops import cumulative as cu
from fn_dl.ops import elementwise as ew
from fn_dl.ops import shape as sh
from fn_dl.ops.indexing import ScatterDimensionNumbers, scatter_add
from fn_dl.ops.sort import sort as sort_together
from fn_dl.ops.sort import take_along_axis

def _no_out(name, out):
    """`out=` is in the signatures for NumPy's positional order; fn_dl arrays cannot be written into."""
    if out is not None:
        raise TypeError(f"{name}: out= is not supported (fn_dl arrays are immutable); use the return value")


# --- cumulative sums and products ------------------------------------------------------------

def _cumulative(name, op, identity, x, axis, dtype, include_initial, flatten_default):
    x = asarray(x)
    if axis is None:
        if x.ndim > 1 and not flatten_default:
            raise ValueError(f"{name}: axis is required for an array of rank {x.ndim} (shape {shape_str(x.shape)})")
        x, ax = sh.reshape(x, (x.size,)), 0
    else:
        ax = normalize_axis(name, axis, x.ndim)
        if x.ndim == 0:
            x = sh.reshape(x, (1,))
    out_dt = rd._sum_dtype(x.dtype) if dtype is None else dtypes.canonicalize(dtype)
    # float16/bfloat16 accumulate in float32 (as the reductions do), then round each partial result once
    comp_dt = dtypes.float32 if out_dt in rd._LOW else out_dt
    out = to_dtype(name, op(to_dtype(name, x, comp_dt), ax, False), out_dt)
    if include_initial:
        shape = list(out.shape)
        shape[ax] = 1
        out = sh.concatenate([sh.full(shape, identity, out_dt), out], ax)
    return out


def cumsum(a, axis=None, dtype=None, out=None):
    """Running sum along `axis` (the flattened array when None). Small integers accumulate in int32.

    >>> import fn_dl.numpy as fnp
    >>> fnp.cumsum(fnp.asarray([[1, 2], [3, 4]])).tolist(), fnp.cumsum(fnp.asarray([[1, 2], [3, 4]]), axis=0).tolist()
    ([1, 3, 6, 10], [[1, 2], [4, 6]])
    """
    _no_out('cumsum', out)
    return _cumulative('cumsum', cu.cumsum, 0, a, axis, dtype, False, True)


def cumprod(a, axis=None, dtype=None, out=None):
    """Running product along `axis` (the flattened array when None).

    >>> import fn_dl.numpy as fnp
    >>> fnp.cumprod(fnp.asarray([1.0, 2.0, 3.0])).tolist()
    [1.0, 2.0, 6.0]
    """
    _no_out('cumprod', out)
    return _cumulative('cumprod', cu.cumprod, 1, a, axis, dtype, False, True)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Array API running sum; `include_initial` prepends the 0 (one more element along axis).

    >>> import fn_dl.numpy as fnp
    >>> fnp.cumulative_sum(fnp.asarray([1, 2, 3]), include_initial=True).tolist()
    [0, 1, 3, 6]
    """
    return _cumulative('cumulative_sum', cu.cumsum, 0, x, axis, dtype, include_initial, False)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Array API running product; `include_initial` prepends the 1.

    >>> import fn_dl.numpy as fnp
    >>> fnp.cumulative_prod(fnp.asarray([2, 3]), include_initial=True).tolist()
    [1, 2, 6]
    """
    return _cumulative('cumulative_prod', cu.cumprod, 1, x, axis, dtype, include_initial, False)


def _nan_to(x, value):
    """x with its NaNs replaced by `value` (integers have none)."""
    x = asarray(x)
    if not dtypes.is_inexact(x.dtype):
        return x
    return el.where(el.isnan(x), sh.full(x.shape, value, x.dtype), x)


def nancumsum(a, axis=None, dtype=None, out=None):
    """cumsum treating NaNs as 0.

    >>> import fn_dl.numpy as fnp
    >>> fnp.nancumsum(fnp.asarray([1.0, fnp.nan, 2.0])).tolist()
    [1.0, 1.0, 3.0]
    """
    _no_out('nancumsum', out)
    return cumsum(_nan_to(a, 0), axis, dtype)


def nancumprod(a, axis=None, dtype=None, out=None):
    """cumprod treating NaNs as 1.

    >>> import fn_dl.numpy as fnp
    >>> fnp.nancumprod(fnp.asarray([2.0, fnp.nan, 3.0])).tolist()
    [2.0, 2.0, 6.0]
    """
    _no_out('nancumprod', out)
    return cumprod(_nan_to(a, 1), axis, dtype)


# --- differences ---------------------------------------------------------------------------------

def _slice_axis(x, axis, start, stop):
    lo, hi = [0] * x.ndim, list(x.shape)
    lo[axis], hi[axis] = start, stop
    return sh.slice(x, lo, hi)


def _edge(v, a, ax):
    """prepend/append value as a block of `a`'s shape with size 1 (or its own size) along `ax`."""
    v = asarray(v)
    if v.ndim == 0:
        shape = list(a.shape)
        shape[ax] = 1
        return sh.broadcast_in_dim(v, tuple(shape), ())
    return v


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The n-th discrete difference along `axis` (booleans: not_equal, as NumPy).

    >>> import fn_dl.numpy as fnp
    >>> fnp.diff(fnp.asarray([1, 4, 9, 16])).tolist(), fnp.diff(fnp.asarray([1, 4, 9, 16]), n=2).tolist()
    ([3, 5, 7], [2, 2])
    """
    a = asarray(a)
    if n < 0:
        raise ValueError(f"diff: order n={n} must be non-negative")
    if a.ndim == 0:
        raise ValueError("diff: needs an array of rank >= 1, got a scalar")
    ax = normalize_axis('diff', axis, a.ndim)
    parts = ([_edge(prepend, a, ax)] if prepend is not None else []) + [a] + \
        ([_edge(append, a, ax)] if append is not None else [])
    if len(parts) > 1:
        a = concatenate(parts, axis=ax)
    op = el.not_equal if dtypes.is_bool(a.dtype) else el.subtract
    for _ in range(n):
        m = a.shape[ax]
        if m == 0:
            break
        a = op(_slice_axis(a, ax, 1, m), _slice_axis(a, ax, 0, m - 1))
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of the flattened array, with optional values before and after.

    >>> import fn_dl.numpy as fnp
    >>> fnp.ediff1d(fnp.asarray([1, 2, 4]), to_begin=0, to_end=[9, 9]).tolist()
    [0, 1, 2, 9, 9]
    """
    a = ravel(asarray(ary))
    d = el.subtract(_slice_axis(a, 0, 1, a.shape[0]), _slice_axis(a, 0, 0, a.shape[0] - 1)) if a.shape[0] else a
    parts = [ravel(asarray(v, d.dtype)) for v in (to_begin,) if v is not None] + [d] + \
        [ravel(asarray(v, d.dtype)) for v in (to_end,) if v is not None]
    return sh.concatenate(parts, 0)


# --- NaN-ignoring reductions -----------------------------------------------------------------

def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """sum treating NaNs as 0.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nansum(fnp.asarray([1.0, fnp.nan, 2.0])))
    3.0
    """
    _no_out('nansum', out)
    return rd.sum(_nan_to(a, 0), axis=axis, dtype=dtype, keepdims=keepdims, initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """prod treating NaNs as 1.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nanprod(fnp.asarray([2.0, fnp.nan, 3.0])))
    6.0
    """
    _no_out('nanprod', out)
    return rd.prod(_nan_to(a, 1), axis=axis, dtype=dtype, keepdims=keepdims, initial=initial, where=where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """mean over the non-NaN entries (NaN for an all-NaN slice).

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nanmean(fnp.asarray([1.0, fnp.nan, 3.0])))
    2.0
    """
    _no_out('nanmean', out)
    a = asarray(a)
    if not dtypes.is_inexact(a.dtype):
        return rd.mean(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    dt = a.dtype if dtype is None else dtypes.canonicalize(dtype)
    valid = el.logical_not(el.isnan(a))
    if where is not None:
        valid = el.logical_and(valid, asarray(where))
    total = rd.sum(_nan_to(a, 0), axis=axis, dtype=dt, keepdims=keepdims, where=valid)
    count = rd.sum(valid, axis=axis, dtype=dtypes.to_real(dt), keepdims=keepdims)
    return el.divide(total, count)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    """var over the non-NaN entries; NaN where fewer than ddof+1 remain.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nanvar(fnp.asarray([1.0, fnp.nan, 3.0])))
    1.0
    """
    _no_out('nanvar', out)
    a = asarray(a)
    ddof = ddof if correction is None else correction
    dt = dtypes.to_inexact(a.dtype) if dtype is None else dtypes.canonicalize(dtype)
    a = to_dtype('nanvar', a, dt)
    valid = el.logical_not(el.isnan(a))
    if where is not None:
        valid = el.logical_and(valid, asarray(where))
    rdt = dtypes.to_real(dt)
    count = rd.sum(valid, axis=axis, dtype=rdt, keepdims=True)
    mu = el.divide(rd.sum(a, axis=axis, keepdims=True, where=valid), count)
    d = el.where(valid, el.subtract(a, mu), sh.full((), 0, dt))
    sq = el.real(el.multiply(d, el.conj(d))) if dtypes.is_complex(dt) else el.multiply(d, d)
    dof = el.subtract(rd.sum(valid, axis=axis, dtype=rdt, keepdims=keepdims), ddof)
    total = rd.sum(sq, axis=axis, keepdims=keepdims)
    return el.where(el.greater(dof, 0), el.divide(total, el.where(el.greater(dof, 0), dof, 1)), np.nan)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    """std over the non-NaN entries.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nanstd(fnp.asarray([1.0, fnp.nan, 3.0])))
    1.0
    """
    _no_out('nanstd', out)
    return el.sqrt(nanvar(a, axis, dtype, None, ddof, keepdims, where=where, correction=correction))


def _nan_extremum(name, reduce, fill, a, axis, keepdims, initial, where):
    a = asarray(a)
    if not dtypes.is_floating(a.dtype):
        return reduce(a, axis=axis, keepdims=keepdims, initial=initial, where=where)
    out = reduce(_nan_to(a, fill), axis=axis, keepdims=keepdims, initial=initial, where=where)
    # an all-NaN slice has no non-NaN extremum: NaN, as NumPy (which also warns)
    all_nan = rd.all(el.isnan(a), axis=axis, keepdims=keepdims)
    return el.where(all_nan, sh.full((), np.nan, out.dtype), out)


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """max ignoring NaNs (NaN for an all-NaN slice).

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nanmax(fnp.asarray([1.0, fnp.nan, 3.0])))
    3.0
    """
    _no_out('nanmax', out)
    return _nan_extremum('nanmax', rd.max, -np.inf, a, axis, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """min ignoring NaNs (NaN for an all-NaN slice).

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nanmin(fnp.asarray([1.0, fnp.nan, 3.0])))
    1.0
    """
    _no_out('nanmin', out)
    return _nan_extremum('nanmin', rd.min, np.inf, a, axis, keepdims, initial, where)


def _nan_arg(reduce, fill, a, axis, keepdims):
    a = asarray(a)
    if not dtypes.is_floating(a.dtype):
        return reduce(a, axis=axis, keepdims=keepdims)
    idx = reduce(_nan_to(a, fill), axis=axis, keepdims=keepdims)
    # NumPy raises for an all-NaN slice; a traced value cannot raise, so (as JAX) it gives -1
    all_nan = rd.all(el.isnan(a), axis=axis, keepdims=keepdims)
    return el.where(all_nan, sh.full((), -1, idx.dtype), idx)


def nanargmax(a, axis=None, out=None, *, keepdims=False):
    """argmax ignoring NaNs; -1 for an all-NaN slice.

    >>> import fn_dl.numpy as fnp
    >>> int(fnp.nanargmax(fnp.asarray([1.0, fnp.nan, 3.0])))
    2
    """
    _no_out('nanargmax', out)
    return _nan_arg(rd.argmax, -np.inf, a, axis, keepdims)


def nanargmin(a, axis=None, out=None, *, keepdims=False):
    """argmin ignoring NaNs; -1 for an all-NaN slice.

    >>> import fn_dl.numpy as fnp
    >>> int(fnp.nanargmin(fnp.asarray([1.0, fnp.nan, 3.0])))
    0
    """
    _no_out('nanargmin', out)
    return _nan_arg(rd.argmin, np.inf, a, axis, keepdims)


# --- quantiles -----------------------------------------------------------------------------------

# Hyndman & Fan's continuous methods: virtual index n*q + alpha + q*(1 - alpha - beta) - 1
_ALPHA_BETA = {'interpolated_inverted_cdf': (0, 1), 'hazen': (0.5, 0.5), 'weibull': (0, 0),
               'median_unbiased': (1 / 3, 1 / 3), 'normal_unbiased': (3 / 8, 3 / 8)}
_METHODS = ('linear', 'lower', 'higher', 'midpoint', 'nearest', 'inverted_cdf', 'averaged_inverted_cdf',
            'closest_observation') + tuple(_ALPHA_BETA)


def _quantile_positions(method, n, q):
    """(index, None) for a method that picks one element, or (virtual index, gamma) for one that interpolates.

    n is the count of usable values (an array broadcasting against q), as NumPy's _QuantileMethods.
    """
    if method in ('lower', 'higher', 'nearest'):
        rnd = {'lower': el.floor, 'higher': el.ceil, 'nearest': ew.round_p.bind}[method]  # round half to even
        return rnd(el.multiply(el.subtract(n, 1), q)), None
    if method in ('inverted_cdf', 'closest_observation'):
        index = el.subtract(el.multiply(n, q), 1 if method == 'inverted_cdf' else 1.5)
        prev = el.floor(index)
        at_prev = el.equal(index, prev)
        if method == 'closest_observation':
            at_prev = el.logical_and(at_prev, el.equal(el.remainder(prev, 2), 1))  # the even 1-based statistic
        return el.maximum(el.where(at_prev, prev, el.add(prev, 1)), 0), None
    if method == 'linear':
        v = el.multiply(el.subtract(n, 1), q)
    elif method == 'averaged_inverted_cdf':
        v = el.subtract(el.multiply(n, q), 1)
    elif method == 'midpoint':
        nq = el.multiply(el.subtract(n, 1), q)
        v = el.multiply(el.add(el.floor(nq), el.ceil(nq)), 0.5)
    else:
        alpha, beta = _ALPHA_BETA[method]
        v = el.subtract(el.add(el.multiply(n, q), el.add(alpha, el.multiply(q, 1 - alpha - beta))), 1)
    gamma = el.subtract(v, el.floor(v))
    if method == 'averaged_inverted_cdf':
        gamma = el.where(el.equal(gamma, 0), 0.5, 1.0)
    elif method == 'midpoint':
        gamma = el.where(el.equal(gamma, 0), 0.0, 0.5)
    return v, gamma


def _lerp(a, b, t):
    """a + t*(b - a), written from b's side for t >= 0.5 as NumPy does (exact at both ends)."""
    d = el.subtract(b, a)
    return el.where(el.greater_equal(t, 0.5), el.subtract(b, el.multiply(d, el.subtract(1, t))),
                    el.add(a, el.multiply(d, t)))


def _check_q(name, q, scale):
    if not isinstance(q, Tracer):
        qv = np.asarray(q)
        if qv.size and not (np.all(qv >= 0) and np.all(qv <= scale)):
            raise ValueError(f"{name}: q must be in the range [0, {scale}], got {q!r}")


def _quantile(name, a, q, axis, method, keepdims, ignore_nan):
    if method not in _METHODS:
        raise ValueError(f"{name}: unknown method {method!r}; use one of {', '.join(_METHODS)}")
    a = asarray(a)
    dt = dtypes.to_inexact(a.dtype)
    if dtypes.is_complex(dt):
        raise TypeError(f"{name}: complex values have no order, got {a.dtype}")
    a = to_dtype(name, a, dt)
    q = asarray(q, dt)
    axes = normalize_axes(name, axis, a.ndim)
    kept = tuple(i for i in range(a.ndim) if i not in axes)
    batch = tuple(a.shape[i] for i in kept)
    n = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    if n == 0:
        raise ValueError(f"{name}: cannot take quantiles over an empty axis of shape {shape_str(a.shape)}")
    # the reduced axes become one last axis; sorting puts NaNs at its end
    s = sort(sh.reshape(sh.transpose(a, kept + axes), batch + (n,)), -1)
    qf = sh.reshape(q, (1,) * len(batch) + (q.size,))
    if ignore_nan:
        count = rd.sum(el.logical_not(el.isnan(s)), axis=-1, keepdims=True, dtype=dt)
    else:
        count = sh.full((1,) * (len(batch) + 1), n, dt)
    last = el.maximum(el.subtract(count, 1), 0)
    pos, gamma = _quantile_positions(method, count, qf)
    idx_shape = batch + (q.size,)

    def take(i):  # i: float positions; clipped to the usable values, as NumPy's _get_indexes
        i = el.clip(i, 0, last)
        return take_along_axis(s, to_dtype(name, broadcast_to(i, idx_shape), dtypes.default_int), len(batch))

    out = take(pos) if gamma is None else _lerp(take(el.floor(pos)), take(el.add(el.floor(pos), 1)),
                                                broadcast_to(gamma, idx_shape))
    if ignore_nan:
        bad = el.equal(count, 0)
    else:
        bad = el.isnan(_slice_axis(s, len(batch), n - 1, n))  # any NaN sorts last
    out = el.where(bad, np.nan, out)
    out = moveaxis(out, -1, 0)
    if keepdims:
        full_shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape))
        out = sh.reshape(out, (q.size,) + full_shape)
    return sh.reshape(out, q.shape + out.shape[1:])


def quantile(a, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False):
    """The q-th quantiles (q in [0, 1]) along `axis`; the result has q's shape in front.

    `method` is any of NumPy's 13 (default 'linear'). A slice holding a NaN gives NaN.

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.asarray([1.0, 2.0, 3.0, 4.0])
    >>> float(fnp.quantile(x, 0.5)), fnp.quantile(x, fnp.asarray([0.0, 1.0]), method='lower').tolist()
    (2.5, [1.0, 4.0])
    """
    _no_out('quantile', out)
    _check_q('quantile', q, 1)
    return _quantile('quantile', a, q, axis, method, keepdims, False)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False):
    """quantile over the non-NaN entries (NaN for an all-NaN slice).

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nanquantile(fnp.asarray([1.0, fnp.nan, 3.0]), 0.5))
    2.0
    """
    _no_out('nanquantile', out)
    _check_q('nanquantile', q, 1)
    return _quantile('nanquantile', a, q, axis, method, keepdims, True)


def _percent(q):
    return el.divide(asarray(q), 100) if isinstance(q, Array) else np.true_divide(q, 100)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False):
    """The q-th percentiles (q in [0, 100]) along `axis`.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.percentile(fnp.asarray([1.0, 2.0, 3.0, 4.0]), 50))
    2.5
    """
    _no_out('percentile', out)
    _check_q('percentile', q, 100)
    return _quantile('percentile', a, _percent(q), axis, method, keepdims, False)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False):
    """percentile over the non-NaN entries.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nanpercentile(fnp.asarray([1.0, fnp.nan, 3.0]), 50))
    2.0
    """
    _no_out('nanpercentile', out)
    _check_q('nanpercentile', q, 100)
    return _quantile('nanpercentile', a, _percent(q), axis, method, keepdims, True)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median along `axis` (the mean of the two middle values for an even count).

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.median(fnp.asarray([3.0, 1.0, 4.0, 2.0])))
    2.5
    """
    _no_out('median', out)
    return _quantile('median', a, 0.5, axis, 'linear', keepdims, False)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """median over the non-NaN entries.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.nanmedian(fnp.asarray([3.0, fnp.nan, 1.0])))
    2.0
    """
    _no_out('nanmedian', out)
    return _quantile('nanmedian', a, 0.5, axis, 'linear', keepdims, True)


# --- covariance and correlation ----------------------------------------------------------------

def _rows(name, m, rowvar, dtype):
    x = asarray(m) if dtype is None else asarray(m, dtype)
    if x.ndim > 2:
        raise ValueError(f"{name}: expected a 1-d or 2-d array, got shape {shape_str(x.shape)}")
    x = sh.reshape(x, (1,) * (2 - x.ndim) + x.shape)
    if not rowvar and x.shape[0] != 1:
        x = sh.transpose(x, (1, 0))
    return x


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    """Covariance matrix of the variables in the rows of `m` (columns if not rowvar), as np.cov.

    >>> import fn_dl.numpy as fnp
    >>> fnp.cov(fnp.asarray([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    from fn_dl.numpy._products import matmul
    x = _rows('cov', m, rowvar, dtype)
    if y is not None:
        x = concatenate([x, _rows('cov', y, rowvar, dtype)], axis=0)
    dt = dtypes.to_inexact(x.dtype) if dtype is None else dtypes.canonicalize(dtype)
    x = to_dtype('cov', x, dt)
    if ddof is None:
        ddof = 0 if bias else 1
    n_obs = x.shape[1]

    def weights(name, wt):
        if wt is None:
            return None
        wt = to_dtype('cov', asarray(wt), dtypes.to_real(dt))
        if wt.shape != (n_obs,):
            raise ValueError(f"cov: {name} must be 1-d with one weight per observation ({n_obs}), "
                             f"got shape {shape_str(wt.shape)}")
        return wt

    fw, aw = weights('fweights', fweights), weights('aweights', aweights)
    w = aw if fw is None else fw if aw is None else el.multiply(fw, aw)
    if w is None:
        avg = rd.mean(x, axis=1, keepdims=True)
        fact = asarray(builtins.max(n_obs - ddof, 0), dtypes.to_real(dt))
    else:
        w_sum = rd.sum(w)
        avg = el.divide(rd.sum(el.multiply(x, w), axis=1, keepdims=True), w_sum)
        if ddof == 0:
            fact = w_sum
        elif aw is None:
            fact = el.subtract(w_sum, ddof)
        else:
            fact = el.subtract(w_sum, el.divide(el.multiply(ddof, rd.sum(el.multiply(w, aw))), w_sum))
        fact = el.maximum(fact, 0)
    xc = el.subtract(x, avg)
    xw = xc if w is None else el.multiply(xc, w)
    c = el.divide(matmul(xc, el.conj(sh.transpose(xw, (1, 0)))), fact)
    return sh.reshape(c, tuple(d for d in c.shape if d != 1))


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """Pearson correlation coefficients, as np.corrcoef (the covariance normalised by the std devs).

    >>> import fn_dl.numpy as fnp
    >>> [round(v, 3) for v in fnp.corrcoef(fnp.asarray([[0.0, 1.0, 2.0], [2.0, 1.0, 0.5]]))[0].tolist()]
    [1.0, -0.982]
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return el.divide(c, c)
    k = c.shape[0]
    d = el.sqrt(el.real(diagonal(c)))
    c = el.divide(el.divide(c, sh.reshape(d, (k, 1))), sh.reshape(d, (1, k)))
    if dtypes.is_complex(c.dtype):  # rounding can push |r| past 1: clip the parts, as NumPy
        return ew.complex(el.clip(el.real(c), -1, 1), el.clip(el.imag(c), -1, 1))
    return el.clip(c, -1, 1)


# --- histograms -----------------------------------------------------------------------------------

def bincount(x, weights=None, minlength=0, *, length=None):
    """Count (or sum the weights of) each non-negative integer value in the 1-d `x`.

    The result's length is max(x) + 1 (at least `minlength`) when computed eagerly;
    inside jit or vmap pass `length=` (larger values are dropped).

    >>> import fn_dl.numpy as fnp
    >>> fnp.bincount(fnp.asarray([0, 2, 2, 3])).tolist()
    [1, 0, 2, 1]
    >>> fnp.bincount(fnp.asarray([0, 1, 1]), weights=fnp.asarray([0.5, 1.0, 2.0]), length=3).tolist()
    [0.5, 3.0, 0.0]
    """
    x = asarray(x)
    if x.ndim != 1 or not dtypes.is_integer(x.dtype):
        raise TypeError(f"bincount: x must be a 1-d integer array, got {x.dtype}{shape_str(x.shape)}")
    if minlength < 0:
        raise ValueError(f"bincount: minlength must be non-negative, got {minlength}")
    if not isinstance(x, Tracer) and x.size and int(rd.min(x)) < 0:
        raise ValueError("bincount: x must be non-negative")
    if length is None:
        top = _concrete_int('bincount', rd.max(x), 'length= (the number of bins)') + 1 if x.size else 0
        length = builtins.max(top, minlength)
    if weights is None:
        w = sh.full(x.shape, 1, dtypes.default_int)
    else:
        w = asarray(weights)
        if w.shape != x.shape:
            raise ValueError(f"bincount: weights of shape {shape_str(w.shape)} do not match x {shape_str(x.shape)}")
    # negative values cannot occur eagerly (checked above); traced ones count in bin 0, as JAX
    return _add_at(int(length), el.maximum(x, 0), w)


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002
    """The bin edges `histogram` uses: `bins` equal bins over `range` (default: a's min to max).

    `weights` is accepted for NumPy's signature; only NumPy's bin estimators (not supported) use it.

    >>> import fn_dl.numpy as fnp
    >>> fnp.histogram_bin_edges(fnp.asarray([0.0, 1.0, 2.0]), bins=2).tolist()
    [0.0, 1.0, 2.0]
    """
    a = ravel(asarray(a))
    dt = dtypes.to_inexact(a.dtype)
    if isinstance(bins, str):
        raise ValueError(f"histogram: bin estimators such as {bins!r} are not supported; give a count or edges")
    if not isinstance(bins, (int, np.integer)):
        # edges given as a Python sequence take the data's precision rather than the float32 default
        edges = asarray(bins, dt) if isinstance(bins, (list, tuple)) else asarray(bins)
        if edges.ndim != 1 or edges.shape[0] < 2:
            raise ValueError(f"histogram: bin edges must be a 1-d array of at least 2 values, got shape "
                             f"{shape_str(edges.shape)}")
        return edges
    if bins < 1:
        raise ValueError(f"histogram: bins must be a positive number, got {bins}")
    if range is not None:
        lo, hi = range
        if lo > hi:
            raise ValueError(f"histogram: range {range} has its max below its min")
        lo, hi = asarray(lo, dt), asarray(hi, dt)
    elif a.size:
        lo, hi = to_dtype('histogram', rd.min(a), dt), to_dtype('histogram', rd.max(a), dt)
        if not isinstance(lo, Tracer) and not (np.isfinite(float(lo)) and np.isfinite(float(hi))):
            raise ValueError(f"histogram: the range of the data [{float(lo)}, {float(hi)}] is not finite; "
                             f"pass range= or remove the NaNs and infinities")
    else:
        lo, hi = asarray(0, dt), asarray(1, dt)
    # an empty range is widened by 0.5 each way, as NumPy
    same = el.equal(lo, hi)
    lo, hi = el.where(same, el.subtract(lo, 0.5), lo), el.where(same, el.add(hi, 0.5), hi)
    step = el.divide(el.subtract(hi, lo), bins)
    inner = el.add(el.multiply(sh.iota(dt, (bins,)), step), lo)
    return sh.concatenate([inner, sh.reshape(hi, (1,))], 0)


def histogram(a, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """(counts, bin_edges) of the flattened `a` over `bins` (a count or the edges), as np.histogram.

    Bins are half-open [e_i, e_i+1) except the last, which includes its right edge.

    >>> import fn_dl.numpy as fnp
    >>> counts, edges = fnp.histogram(fnp.asarray([0.0, 0.5, 1.0, 2.0]), bins=2)
    >>> counts.tolist(), edges.tolist()
    ([2, 2], [0.0, 1.0, 2.0])
    """
    a = ravel(asarray(a))
    edges = histogram_bin_edges(a, bins, range)
    nb = edges.shape[0] - 1
    if weights is None:
        w = sh.full(a.shape, 1, dtypes.default_int)
    else:
        w = ravel(asarray(weights))
        if w.shape != a.shape:
            raise ValueError(f"histogram: weights of shape {shape_str(asarray(weights).shape)} do not match a")
    # bin i+1 holds [e_i, e_i+1); 0 and nb+1 catch the values below and above (and NaN) and are dropped
    idx = searchsorted(edges, a, side='right')
    idx = el.where(el.equal(a, _slice_axis(edges, 0, nb, nb + 1)), nb, idx)
    counts = _slice_axis(_add_at(nb + 2, idx, w), 0, 1, nb + 1)
    if density:  # divide by the widths first, so integer counts meet the edges' dtype (as NumPy)
        counts = el.divide(el.divide(counts, diff(edges)), rd.sum(counts))
    return counts, edges


# --- comparisons -------------------------------------------------------------------------------------

def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b| elementwise; infinities are close only to themselves.

    >>> import fn_dl.numpy as fnp
    >>> fnp.isclose(fnp.asarray([1.0, 1.1, 100.0]), fnp.asarray([1.000001, 1.0, 100.0005])).tolist()
    [True, False, True]
    """
    a, b = promote('isclose', *_arrays(a, b))
    dt = dtypes.to_inexact(a.dtype)
    a, b = to_dtype('isclose', a, dt), to_dtype('isclose', b, dt)
    tol = el.add(atol, el.multiply(rtol, el.abs(b)))
    close = el.logical_or(el.logical_and(el.less_equal(el.abs(el.subtract(a, b)), tol), el.isfinite(b)),
                          el.equal(a, b))
    if equal_nan:
        close = el.logical_or(close, el.logical_and(el.isnan(a), el.isnan(b)))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of a is close to b (a 0-d bool array).

    >>> import fn_dl.numpy as fnp
    >>> bool(fnp.allclose(fnp.asarray([1.0, 2.0]), fnp.asarray([1.0, 2.0 + 1e-9])))
    True
    """
    return rd.all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """Whether the arrays have one shape and equal elements (a 0-d bool array).

    >>> import fn_dl.numpy as fnp
    >>> bool(fnp.array_equal(fnp.asarray([1, 2]), fnp.asarray([1, 2]))), bool(fnp.array_equal([1], [1, 1]))
    (True, False)
    """
    a1, a2 = asarray(a1), asarray(a2)
    if a1.shape != a2.shape:
        return asarray(False)
    eq = el.equal(a1, a2)
    if equal_nan:
        eq = el.logical_or(eq, el.logical_and(el.isnan(a1), el.isnan(a2)))
    return rd.all(eq)


def array_equiv(a1, a2):
    """Whether the arrays broadcast together and are then equal everywhere.

    >>> import fn_dl.numpy as fnp
    >>> bool(fnp.array_equiv(fnp.asarray([1, 2]), fnp.asarray([[1, 2], [1, 2]])))
    True
    """
    a1, a2 = asarray(a1), asarray(a2)
    try:
        broadcast_shapes('array_equiv', a1.shape, a2.shape)
    except ValueError:
        return asarray(False)
    return rd.all(el.equal(a1, a2))


# --- interpolation, binning, integration --------------------------------------------------------------

def _take(v, i):
    """The 1-d v at the positions i (any shape)."""
    return sh.reshape(take_along_axis(v, sh.reshape(i, (i.size,)), 0), i.shape)


def _add_at(length, idx, w):
    """zeros(length).at[idx].add(w) for 1-d idx and w; out-of-range indices are dropped."""
    dn = ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,))
    return scatter_add(sh.full((length,), 0, w.dtype), sh.reshape(idx, idx.shape + (1,)), w, dn, mode='drop')


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points (xp, fp) at x; xp increasing.

    Outside [xp[0], xp[-1]] the result is `left` / `right` (default fp[0] / fp[-1]);
    with `period`, xp and x wrap around.

    >>> import fn_dl.numpy as fnp
    >>> fnp.interp(fnp.asarray([0.5, 1.5, 3.0]), fnp.asarray([0.0, 1.0, 2.0]), fnp.asarray([0.0, 10.0, 0.0])).tolist()
    [5.0, 5.0, 0.0]
    """
    x, xp = promote('interp', *_arrays(x, xp))
    dt = dtypes.to_inexact(x.dtype)
    x, xp = to_dtype('interp', x, dt), to_dtype('interp', xp, dt)
    fp = asarray(fp)
    fp = to_dtype('interp', fp, dtypes.result_type((fp.dtype, False), (dt, False))[0])
    if xp.ndim != 1 or fp.shape != xp.shape or xp.shape[0] == 0:
        raise ValueError(f"interp: xp and fp must be 1-d of one non-zero length, got shapes {shape_str(xp.shape)} "
                         f"and {shape_str(fp.shape)}")
    if period is not None:
        if period == 0:
            raise ValueError("interp: period must be non-zero")
        period = builtins.abs(period)
        left = right = None
        x, xp = el.remainder(x, period), el.remainder(xp, period)
        xp, fp = sort_together([xp, fp], 0)
        n = xp.shape[0]
        xp = sh.concatenate([el.subtract(_slice_axis(xp, 0, n - 1, n), period), xp,
                             el.add(_slice_axis(xp, 0, 0, 1), period)], 0)
        fp = sh.concatenate([_slice_axis(fp, 0, n - 1, n), fp, _slice_axis(fp, 0, 0, 1)], 0)
    n = xp.shape[0]
    if n == 1:
        f = broadcast_to(sh.reshape(fp, ()), x.shape)
    else:
        i = el.clip(searchsorted(xp, x, side='right'), 1, n - 1)
        im1 = el.subtract(i, 1)
        x0, x1, f0, f1 = _take(xp, im1), _take(xp, i), _take(fp, im1), _take(fp, i)
        dx = el.subtract(x1, x0)
        # equal neighbouring xp (a jump): take the left value, and keep the gradient finite
        flat = el.less_equal(el.abs(dx), np.spacing(np.finfo(dt).eps))
        slope = el.divide(el.subtract(x, x0), el.where(flat, 1, dx))
        f = el.where(flat, f0, el.add(f0, el.multiply(slope, el.subtract(f1, f0))))
    if period is None:
        first, last = _slice_axis(xp, 0, 0, 1), _slice_axis(xp, 0, n - 1, n)
        lo = sh.reshape(_slice_axis(fp, 0, 0, 1), ()) if left is None else left
        hi = sh.reshape(_slice_axis(fp, 0, n - 1, n), ()) if right is None else right
        f = el.where(el.less(x, sh.reshape(first, ())), lo, f)
        f = el.where(el.greater(x, sh.reshape(last, ())), hi, f)
    return to_dtype('interp', f, fp.dtype)


def digitize(x, bins, right=False):
    """The index of the bin each x falls in (bins increasing or decreasing), as np.digitize.

    >>> import fn_dl.numpy as fnp
    >>> fnp.digitize(fnp.asarray([0.5, 1.0, 2.5]), fnp.asarray([1.0, 2.0, 3.0])).tolist()
    [0, 1, 2]
    """
    x, bins = promote('digitize', *_arrays(x, bins))
    if bins.ndim != 1:
        raise ValueError(f"digitize: bins must be 1-d, got shape {shape_str(bins.shape)}")
    n = bins.shape[0]
    if n == 0:
        return sh.full(x.shape, 0, dtypes.default_int)
    if not isinstance(bins, Tracer):
        d = np.diff(np.asarray(bins))
        if not (np.all(d >= 0) or np.all(d <= 0)):
            raise ValueError("digitize: bins must be monotonically increasing or decreasing")
    side = 'left' if right else 'right'
    up = searchsorted(bins, x, side=side)
    down = el.subtract(n, searchsorted(sh.rev(bins, (0,)), x, side=side))
    increasing = el.greater_equal(_slice_axis(bins, 0, n - 1, n), _slice_axis(bins, 0, 0, 1))
    return el.where(sh.reshape(increasing, ()), up, down)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of y along `axis` by the trapezoidal rule (sample points x, or spacing dx).

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.trapezoid(fnp.asarray([1.0, 2.0, 3.0]))), float(fnp.trapezoid([1.0, 2.0], x=[0.0, 2.0]))
    (4.0, 3.0)
    """
    y = asarray(y)
    ax = normalize_axis('trapezoid', axis, y.ndim)
    n = y.shape[ax]
    if x is None:
        d = dx
    else:
        x = asarray(x)
        if x.ndim == 1:
            d = diff(x)
            shape = [1] * y.ndim
            shape[ax] = d.shape[0]
            d = sh.reshape(d, shape)
        else:
            d = diff(x, axis=ax)
    mid = el.divide(el.add(_slice_axis(y, ax, 1, n), _slice_axis(y, ax, 0, builtins.max(n - 1, 0))), 2.0)
    return rd.sum(el.multiply(d, mid), axis=ax)


__all__ = ['cumsum', 'cumprod', 'cumulative_sum', 'cumulative_prod', 'nancumsum', 'nancumprod', 'diff', 'ediff1d',
           'nansum', 'nanprod', 'nanmean', 'nanvar', 'nanstd', 'nanmax', 'nanmin', 'nanargmax', 'nanargmin',
           'quantile', 'nanquantile', 'percentile', 'nanpercentile', 'median', 'nanmedian', 'cov', 'corrcoef',
           'bincount', 'histogram_bin_edges', 'histogram', 'isclose', 'allclose', 'array_equal', 'array_equiv',
           'interp', 'digitize', 'trapezoid']
