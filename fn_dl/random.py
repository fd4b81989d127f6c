"""Pseudo-random numbers from explicit, splittable, counter-based keys (threefry2x32, as in JAX).

A key is a uint32 array of shape (2,), like `jax.random.PRNGKey`; a batch of
keys has shape (..., 2). Every sampler is a pure function of its key: the
numbers are the threefry2x32 hash of the key and a counter, written with
uint32 primitives, so the bits are the same eager, under `fd.vmap`, `fd.grad`
and `fd.jit`, and (with JAX's default `jax_threefry_partitionable=True`)
bit-for-bit JAX's; floats made from them agree to the last bit or two (XLA
fuses multiply-adds, NumPy rounds each op). Never reuse a key for two draws:
`split` it first.

>>> import fn_dl as fd
>>> k = fd.random.key(0)
>>> k1, k2 = fd.random.split(k)
>>> fd.random.normal(k1, (2, 3)).shape
(2, 3)

Under `fd.vmap` over a batch of keys each example draws its own independent
stream, equal to the unbatched call with its key.

For PyTorch-style code that does not thread keys (layer initialisation),
`seed(n)` and `next_key()` keep one global, stateful stream.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import Array
from fn_dl.core.aval import describe, shape_str
from fn_dl.core.trace import in_transform, state as _trace_state
from fn_dl.numpy._reductions import argmax as _argmax
from fn_dl.numpy._util import asarray, broadcast_shapes, broadcast_to_shape, normalize_axis, to_dtype
from fn_dl.ops import elementwise as ew
from fn_dl.ops import shape as sh

_UINT = {8: dtypes.uint8, 16: dtypes.uint16, 32: dtypes.uint32, 64: dtypes.uint64}
_KEY_HINT = "a key is a uint32 array of shape (2,) made by fd.random.key(seed) or fd.random.split"


# --- threefry2x32 ---------------------------------------------------------------------------------

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_KS_PARITY = 0x1BD11BDA  # Threefry's key-schedule constant


def _threefry2x32(k1, k2, x1, x2):
    """The Threefry-2x32 block cipher (20 rounds) of the counter pair (x1, x2) under the key (k1, k2).

    All four are uint32 arrays of one shape; uint32 addition wraps, as the cipher needs.
    """
    # rotate left by r = (x * 2**r) | (x >> (32 - r)): the wrapping multiply is the left shift, and
    # cheaper than one when eager; the constants are made once, as each costs a primitive call
    u32 = lambda v: sh.full(x1.shape, v, dtypes.uint32)  # noqa: E731
    shifts = {r: (u32(2 ** r), u32(32 - r)) for r in _ROTATIONS[0] + _ROTATIONS[1]}
    ks = (k1, k2, ew.bitwise_xor(ew.bitwise_xor(k1, k2), u32(_KS_PARITY)))
    x1, x2 = ew.add(x1, ks[0]), ew.add(x2, ks[1])
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            left, right = shifts[r]
            x1 = ew.add(x1, x2)
            x2 = ew.bitwise_xor(x1, ew.bitwise_or(ew.mul(x2, left), ew.shift_right_logical(x2, right)))
        x1 = ew.add(x1, ks[(i + 1) % 3])
        x2 = ew.add(ew.add(x2, ks[(i + 2) % 3]), u32(i + 1))
    return x1, x2


def _hash(key, n):
    """threefry2x32 of `key` over the counters 0..n-1, as two flat uint32 arrays of length n.

    The counters are the low words of a 64-bit iota (the high words are 0 below 2**32
    elements), exactly JAX's partitionable scheme. Working on rank-1 arrays also keeps
    NumPy from doing the wrapping arithmetic on 0-d scalars, where it warns on overflow.
    """
    if n >= 2 ** 32:
        raise ValueError(f"fd.random: cannot draw {n} values from one key (at most 2**32 - 1); split the key")
    k1 = sh.broadcast_in_dim(sh.slice(key, (0,), (1,)), (n,), (0,))
    k2 = sh.broadcast_in_dim(sh.slice(key, (1,), (2,)), (n,), (0,))
    counters = sh.iota(dtypes.uint32, (n,))
    return _threefry2x32(k1, k2, sh.full((n,), 0, dtypes.uint32), counters)


def _random_bits(key, bit_width, shape):
    """Uniform random unsigned integers of `bit_width` bits and `shape` (JAX's threefry_random_bits)."""
    b1, b2 = _hash(key, math.prod(shape))
    if bit_width == 64:
        hi, lo = ew.convert_element_type(b1, dtypes.uint64), ew.convert_element_type(b2, dtypes.uint64)
        bits = ew.bitwise_or(ew.shift_left(hi, sh.full(hi.shape, 32, dtypes.uint64)), lo)
    else:
        bits = ew.convert_element_type(ew.bitwise_xor(b1, b2), _UINT[bit_width])
    return sh.reshape(bits, shape)


# --- argument checking ------------------------------------------------------------------------------

def _check_key(name, key):
    if isinstance(key, np.ndarray):
        key = asarray(key)
    if not isinstance(key, Array):
        raise TypeError(f"{name}: expected a key, got {type(key).__name__}; {_KEY_HINT}")
    if key.dtype != dtypes.uint32:
        raise TypeError(f"{name}: expected a key, got {describe([key.aval])}; {_KEY_HINT} "
                        f"(pass the key first: {name}(key, ...))")
    if key.shape != (2,):
        if key.ndim >= 2 and key.shape[-1] == 2:
            raise ValueError(f"{name}: expected one key of shape (2,), got a batch of keys of shape "
                             f"{shape_str(key.shape)}; map over it with fd.vmap")
        raise ValueError(f"{name}: expected a key of shape (2,), got shape {shape_str(key.shape)}; {_KEY_HINT}")
    return key


def _check_shape(name, shape):
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{name}: shape must be a tuple of ints, got {shape!r}"
                        + (f"; write ({shape},)" if isinstance(shape, (int, np.integer)) else ""))
    try:
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"{name}: shape must be a tuple of ints, got {shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"{name}: shape {shape} has a negative dimension")
    return shape


def _float_dtype(name, dtype):
    dtype = dtypes.default_float if dtype is None else dtypes.canonicalize(dtype)
    if not dtypes.is_floating(dtype):
        raise TypeError(f"{name}: dtype must be a floating dtype, got {dtype}")
    return dtype


def _broadcast_param(name, x, shape):
    """x broadcast to `shape`, which it must broadcast to exactly (a parameter never enlarges a draw)."""
    if x.shape == shape:
        return x
    if broadcast_shapes(name, x.shape, shape) != shape:
        raise ValueError(f"{name}: a parameter of shape {shape_str(x.shape)} does not broadcast to the "
                         f"requested shape {shape_str(shape)}")
    return broadcast_to_shape(x, shape)


def _param(name, x, dtype, shape):
    return _broadcast_param(name, to_dtype(name, x, dtype), shape)


def _param_shape(name, shape, *params):
    """`shape` checked, or the broadcast shape of the parameters when it is None."""
    if shape is None:
        return broadcast_shapes(name, *(np.shape(p) for p in params))
    return _check_shape(name, shape)


# --- keys ----------------------------------------------------------------------------------------------

def key(seed):
    """A key from an integer seed (a Python int up to 64 bits, or an integer scalar Array).

    The key is the uint32 pair (hi, lo): lo is the seed modulo 2**32, and hi is 0 for
    seeds in [-2**31, 2**32) (exactly JAX's `PRNGKey(seed)`), otherwise the seed's high
    32 bits (as JAX with 64-bit seeds), so large seeds such as hashes are not truncated.
    An Array seed works under fd.vmap and fd.jit.

    >>> import fn_dl as fd
    >>> fd.random.key(0).tolist(), fd.random.key(2 ** 32 + 7).tolist()
    ([0, 0], [1, 7])
    """
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"key: the seed must be an integer, got {seed!r}")
    if isinstance(seed, int):
        if not -2 ** 63 <= seed < 2 ** 64:
            raise OverflowError(f"key: the seed {seed} does not fit in 64 bits")
        hi = 0 if -2 ** 31 <= seed < 2 ** 32 else (seed % 2 ** 64) >> 32
        return Array(np.array([hi, seed % 2 ** 32], dtype=np.uint32))
    seed = asarray(seed)
    if not dtypes.is_integer(seed.dtype) or seed.ndim:
        raise TypeError(f"key: the seed must be an integer scalar, got {describe([seed.aval])}"
                        + ("; map over an array of seeds with fd.vmap" if seed.ndim else ""))
    seed = sh.reshape(seed, (1,))
    lo = ew.convert_element_type(seed, dtypes.uint32)
    if seed.dtype.itemsize < 8:
        return sh.concatenate([sh.full((1,), 0, dtypes.uint32), lo], 0)
    wide = ew.bitcast_convert_type(seed, dtypes.uint64)
    hi = ew.convert_element_type(ew.shift_right_logical(wide, sh.full((1,), 32, dtypes.uint64)), dtypes.uint32)
    small = ew.lt(seed, sh.full((1,), 2 ** 32, seed.dtype))
    if not dtypes.is_unsigned(seed.dtype):
        small = ew.bitwise_and(small, ew.ge(seed, sh.full((1,), -2 ** 31, seed.dtype)))
    hi = ew.select_n(small, hi, sh.full((1,), 0, dtypes.uint32))
    return sh.concatenate([hi, lo], 0)


PRNGKey = key


def key_data(keys):
    """The uint32 words of a key or a batch of keys (keys are already raw; this checks them).

    Kept so that code written for JAX's typed keys runs unchanged.

    >>> import fn_dl as fd
    >>> fd.random.key_data(fd.random.key(3)).tolist()
    [0, 3]
    """
    keys = asarray(keys)
    if keys.dtype != dtypes.uint32 or keys.ndim == 0 or keys.shape[-1] != 2:
        raise TypeError(f"key_data: expected keys of shape (..., 2) and dtype uint32, got {describe([keys.aval])}")
    return keys


def split(key, num=2):
    """`num` new, independent keys (an int, or a tuple for a grid of keys): shape (*num, 2).

    >>> import fn_dl as fd
    >>> k1, k2 = fd.random.split(fd.random.key(0))
    >>> fd.random.split(fd.random.key(0), (2, 3)).shape
    (2, 3, 2)
    """
    key = _check_key('split', key)
    shape = _check_shape('split', (num,) if isinstance(num, (int, np.integer)) else num)
    n = math.prod(shape)
    b1, b2 = _hash(key, n)
    pairs = sh.concatenate([sh.reshape(b1, (n, 1)), sh.reshape(b2, (n, 1))], 1)
    return sh.reshape(pairs, shape + (2,))


def fold_in(key, data):
    """A new key from `key` and an integer (a step number, a layer index, a device id...).

    `fold_in(key, i)` equals `split(key, n)[i]`, as in JAX. `data` is taken modulo 2**32;
    it may be a traced integer scalar.

    >>> import fn_dl as fd
    >>> k = fd.random.key(0)
    >>> bool((fd.random.fold_in(k, 1) == fd.random.split(k, 3)[1]).all())
    True
    """
    key = _check_key('fold_in', key)
    if isinstance(data, (bool, np.bool_)):
        raise TypeError("fold_in: data must be an integer, got a bool")
    if isinstance(data, int):
        if not -2 ** 31 <= data < 2 ** 32:
            raise OverflowError(f"fold_in: data {data} does not fit in 32 bits")
        data = Array(np.array([data % 2 ** 32], dtype=np.uint32))
    else:
        data = asarray(data)
        if not dtypes.is_integer(data.dtype) or data.ndim:
            raise TypeError(f"fold_in: data must be an integer scalar, got {describe([data.aval])}"
                            + ("; map over an array with fd.vmap" if data.ndim else ""))
        data = ew.convert_element_type(sh.reshape(data, (1,)), dtypes.uint32)
    k1, k2 = sh.slice(key, (0,), (1,)), sh.slice(key, (1,), (2,))
    y1, y2 = _threefry2x32(k1, k2, sh.full((1,), 0, dtypes.uint32), data)
    return sh.concatenate([y1, y2], 0)


# --- the global stream ------------------------------------------------------------------------------------

_stream = [None]  # the global key; None until first used, then key(0) unless seed() set it


def seed(n):
    """Reset the global stream that `next_key()` draws from (like `torch.manual_seed`).

    >>> import fn_dl as fd
    >>> fd.random.seed(0); a = fd.random.next_key()
    >>> fd.random.seed(0); bool((fd.random.next_key() == a).all())
    True
    """
    _stream[0] = key(n)


def next_key():
    """A fresh key from the global stream (seeded with 0 unless `seed(n)` was called).

    This is stateful, for PyTorch-style code such as layer initialisation with no key
    given. It raises inside fd.grad, fd.vmap or fd.jit: under jit the key would be
    frozen into the compiled program, the same number at every call; pass an explicit
    key there instead.

    >>> import fn_dl as fd
    >>> fd.random.seed(1)
    >>> k1, k2 = fd.random.next_key(), fd.random.next_key()
    >>> bool((k1 == k2).all())
    False
    """
    if in_transform():
        raise RuntimeError("fd.random.next_key: the global random stream is stateful and cannot be used inside "
                           f"a transform ({_trace_state.trace!r}); pass a key (fd.random.split) to the function "
                           "instead")
    current = key(0) if _stream[0] is None else _stream[0]
    keys = split(current)
    _stream[0] = keys[0]
    return keys[1]


# --- samplers ------------------------------------------------------------------------------------------

def bits(key, shape=(), dtype=None):
    """Uniform random bits as unsigned integers (uint8, uint16, uint32 (default) or uint64).

    >>> import fn_dl as fd
    >>> fd.random.bits(fd.random.key(0), (3,)).dtype
    dtype('uint32')
    """
    key = _check_key('bits', key)
    dtype = dtypes.uint32 if dtype is None else dtypes.canonicalize(dtype)
    if not dtypes.is_unsigned(dtype):
        raise TypeError(f"bits: dtype must be an unsigned integer dtype, got {dtype}")
    return _random_bits(key, dtype.itemsize * 8, _check_shape('bits', shape))


def uniform(key, shape=(), dtype=None, minval=0., maxval=1.):
    """Uniform floats in [minval, maxval) (float32 by default); minval/maxval broadcast to `shape`.

    The mantissa bits of a float in [1, 2) are random; subtracting 1 and scaling maps
    it to the interval, as JAX does.

    >>> import fn_dl as fd
    >>> u = fd.random.uniform(fd.random.key(0), (1000,), minval=2., maxval=3.)
    >>> bool((u >= 2).all() and (u < 3).all())
    True
    """
    key = _check_key('uniform', key)
    dtype = _float_dtype('uniform', dtype)
    shape = _check_shape('uniform', shape)
    return _uniform(key, shape, dtype, minval, maxval)


def _uniform(key, shape, dtype, minval, maxval):
    finfo = dtypes.finfo(dtype)
    nbits, nmant = finfo.bits, finfo.nmant
    # bfloat16 has 7 mantissa bits: draw whole bytes, as JAX does
    rng_bits = 8 if nmant < 8 else nbits
    uint = _UINT[nbits]
    bits = ew.convert_element_type(_random_bits(key, rng_bits, shape), uint)
    one_bits = int(np.array(1.0, dtype).view(uint))
    float_bits = ew.bitwise_or(ew.shift_right_logical(bits, sh.full(shape, rng_bits - nmant, uint)),
                               sh.full(shape, one_bits, uint))
    floats = ew.sub(ew.bitcast_convert_type(float_bits, dtype), sh.full(shape, 1., dtype))
    lo = _param('uniform', minval, dtype, shape)
    hi = _param('uniform', maxval, dtype, shape)
    # rounding of floats * (hi - lo) + lo could reach below lo; clamp, as JAX does
    return ew.max(lo, ew.add(ew.mul(floats, ew.sub(hi, lo)), lo))


def normal(key, shape=(), dtype=None):
    """Standard normal samples (float32 by default; a complex dtype gives unit-variance complex normals).

    Computed as sqrt(2) * erfinv(u) with u uniform in (-1, 1), as JAX does.

    >>> import fn_dl as fd
    >>> x = fd.random.normal(fd.random.key(0), (10000,))
    >>> abs(float(x.mean())) < 0.05 and abs(float(x.std()) - 1) < 0.05
    True
    """
    key = _check_key('normal', key)
    dtype = dtypes.default_float if dtype is None else dtypes.canonicalize(dtype)
    if not dtypes.is_inexact(dtype):
        raise TypeError(f"normal: dtype must be a floating or complex dtype, got {dtype}")
    shape = _check_shape('normal', shape)
    if dtypes.is_complex(dtype):
        real = dtypes.float64 if dtype == dtypes.complex128 else dtypes.float32
        k_re, k_im = split(key)
        z = ew.complex(_normal(k_re, shape, real), _normal(k_im, shape, real))
        return ew.div(z, sh.full(shape, math.sqrt(2), dtype))
    return _normal(key, shape, dtype)


def _normal(key, shape, dtype):
    lo = float(np.nextafter(np.array(-1., dtype), np.array(0., dtype)))
    u = _uniform(key, shape, dtype, lo, 1.)
    return ew.mul(sh.full(shape, math.sqrt(2), dtype), ew.erf_inv_p.bind(u))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal samples conditioned on lower < x < upper (bounds broadcast to `shape`).

    Inverse-CDF sampling between erf(lower/sqrt 2) and erf(upper/sqrt 2), then a clamp into
    the open interval, as JAX does.

    >>> import fn_dl as fd
    >>> x = fd.random.truncated_normal(fd.random.key(0), -1., 2., (1000,))
    >>> bool((x > -1).all() and (x < 2).all())
    True
    """
    key = _check_key('truncated_normal', key)
    dtype = _float_dtype('truncated_normal', dtype)
    shape = _param_shape('truncated_normal', shape, lower, upper)
    lower = _param('truncated_normal', lower, dtype, shape)
    upper = _param('truncated_normal', upper, dtype, shape)
    sqrt2 = sh.full(shape, math.sqrt(2), dtype)
    a = ew.erf_p.bind(ew.div(lower, sqrt2))
    b = ew.erf_p.bind(ew.div(upper, sqrt2))
    out = ew.mul(sqrt2, ew.erf_inv_p.bind(_uniform(key, shape, dtype, a, b)))
    lo = ew.nextafter(ew.stop_gradient_p.bind(lower), sh.full(shape, np.inf, dtype))
    hi = ew.nextafter(ew.stop_gradient_p.bind(upper), sh.full(shape, -np.inf, dtype))
    return ew.min(ew.max(out, lo), hi)


def bernoulli(key, p=0.5, shape=None, mode='low'):
    """Booleans that are True with probability p (broadcast to `shape`, default p's shape).

    mode='high' uses twice the bits, for probabilities below about 1e-7 in float32.

    >>> import fn_dl as fd
    >>> b = fd.random.bernoulli(fd.random.key(0), 0.3, (10000,))
    >>> b.dtype, abs(float(b.mean()) - 0.3) < 0.02
    (dtype('bool'), True)
    """
    key = _check_key('bernoulli', key)
    if mode not in ('low', 'high'):
        raise ValueError(f"bernoulli: mode must be 'low' or 'high', got {mode!r}")
    p = asarray(p)
    if not dtypes.is_floating(p.dtype):
        raise TypeError(f"bernoulli: the probability p must be floating, got {describe([p.aval])}")
    shape = _param_shape('bernoulli', shape, p)
    p = _broadcast_param('bernoulli', p, shape)
    if mode == 'low':
        return ew.lt(_uniform(key, shape, p.dtype, 0., 1.), p)
    u = _uniform(key, (2,) + shape, p.dtype, 0., 1.)
    u1, u2 = (sh.reshape(sh.slice(u, (i,) + (0,) * len(shape), (i + 1,) + shape), shape) for i in (0, 1))
    # u2 refines u1 below its resolution 2**-nmant
    u2 = ew.mul(u2, sh.full(shape, 2. ** -dtypes.finfo(p.dtype).nmant, p.dtype))
    return ew.lt(u2, ew.sub(p, u1))


def rademacher(key, shape=(), dtype=None):
    """-1 or +1 with equal probability (int32 by default).

    >>> import fn_dl as fd
    >>> sorted(set(fd.random.rademacher(fd.random.key(0), (100,)).tolist()))
    [-1, 1]
    """
    key = _check_key('rademacher', key)
    dtype = dtypes.default_int if dtype is None else dtypes.canonicalize(dtype)
    shape = _check_shape('rademacher', shape)
    b = ew.convert_element_type(bernoulli(key, .5, shape), dtype)
    return ew.sub(ew.mul(sh.full(shape, 2, dtype), b), sh.full(shape, 1, dtype))


def _clip_convert(x, dtype):
    """Integer x converted to integer `dtype`, saturating rather than wrapping."""
    lo = max(int(dtypes.iinfo(dtype).min), int(dtypes.iinfo(x.dtype).min))
    hi = min(int(dtypes.iinfo(dtype).max), int(dtypes.iinfo(x.dtype).max))
    x = ew.min(ew.max(x, sh.full(x.shape, lo, x.dtype)), sh.full(x.shape, hi, x.dtype))
    return ew.convert_element_type(x, dtype)


def _int_param(name, x):
    x = asarray(x)
    if not dtypes.is_integer(x.dtype):
        if not dtypes.is_floating(x.dtype):
            raise TypeError(f"{name}: bounds must be integers, got {describe([x.aval])}")
        x = ew.convert_element_type(x, dtypes.default_int)
    return x


def randint(key, shape, minval, maxval, dtype=None):
    """Uniform integers in [minval, maxval) (int32 by default; bounds broadcast to `shape`).

    Two words of random bits per value, reduced modulo the span, as JAX does (the bias
    is below span / 2**32). maxval <= minval gives minval.

    >>> import fn_dl as fd
    >>> x = fd.random.randint(fd.random.key(0), (1000,), 3, 7)
    >>> sorted(set(x.tolist()))
    [3, 4, 5, 6]
    """
    key = _check_key('randint', key)
    shape = _check_shape('randint', shape)
    dtype = dtypes.default_int if dtype is None else dtypes.canonicalize(dtype)
    if not dtypes.is_integer(dtype):
        raise TypeError(f"randint: dtype must be an integer dtype, got {dtype}")
    minval, maxval = _int_param('randint', minval), _int_param('randint', maxval)
    info = dtypes.iinfo(dtype)
    if info.bits < 32:
        # 8- and 16-bit values are drawn as int32 and converted, to keep the bias small
        minval = _clip_convert(minval, dtypes.int32)
        maxval = _clip_convert(maxval, dtypes.int32)
        minval = ew.max(minval, sh.full(minval.shape, int(info.min), dtypes.int32))
        maxval = ew.min(maxval, sh.full(maxval.shape, int(info.max) + 1, dtypes.int32))
        return ew.convert_element_type(_randint(key, shape, minval, maxval, dtypes.int32), dtype)
    return _randint(key, shape, minval, maxval, dtype)


def _randint(key, shape, minval, maxval, dtype):
    nbits = dtypes.iinfo(dtype).bits
    # the arithmetic below wraps by design; on shape () it would run on NumPy scalars, which
    # warn on overflow, so it runs on at least one element
    work = shape or (1,)
    minval = sh.reshape(_broadcast_param('randint', minval, shape), work)
    maxval = sh.reshape(_broadcast_param('randint', maxval, shape), work)
    dtype_max = min(int(dtypes.iinfo(dtype).max), int(dtypes.iinfo(maxval.dtype).max))
    # maxval beyond the dtype (e.g. 256 for uint8) means "up to the dtype's maximum, inclusive"
    maxval_out_of_range = ew.gt(maxval, sh.full(work, dtype_max, maxval.dtype))
    minval, maxval = _clip_convert(minval, dtype), _clip_convert(maxval, dtype)
    k1, k2 = split(key)
    higher, lower = _random_bits(k1, nbits, work), _random_bits(k2, nbits, work)
    uint = _UINT[nbits]
    one = sh.full(work, 1, uint)
    span = ew.sub(ew.convert_element_type(maxval, uint), ew.convert_element_type(minval, uint))
    empty = ew.le(maxval, minval)
    span = ew.select_n(empty, span, one)
    span = ew.select_n(ew.bitwise_and(maxval_out_of_range, ew.bitwise_not(empty)), span, ew.add(span, one))
    # (hi * 2**nbits + lo) % span, taking 2**nbits % span as (2**(nbits/2) % span)**2 % span in wrapping
    # arithmetic, exactly as JAX computes it
    multiplier = ew.rem(sh.full(work, 2 ** (nbits // 2), uint), span)
    multiplier = ew.rem(ew.mul(multiplier, multiplier), span)
    offset = ew.add(ew.mul(ew.rem(higher, span), multiplier), ew.rem(lower, span))
    offset = ew.rem(offset, span)
    out = ew.add(minval, ew.convert_element_type(offset, dtype))
    return sh.reshape(out, shape)


def gumbel(key, shape=(), dtype=None, mode='low'):
    """Standard Gumbel samples, -log(-log(u)).

    mode='high' uses twice the bits, reaching further into the right tail.

    >>> import fn_dl as fd
    >>> x = fd.random.gumbel(fd.random.key(0), (10000,))
    >>> abs(float(x.mean()) - 0.5772) < 0.05
    True
    """
    key = _check_key('gumbel', key)
    dtype = _float_dtype('gumbel', dtype)
    shape = _check_shape('gumbel', shape)
    if mode not in ('low', 'high'):
        raise ValueError(f"gumbel: mode must be 'low' or 'high', got {mode!r}")
    return _gumbel(key, shape, dtype, mode)


def _gumbel(key, shape, dtype, mode):
    info = dtypes.finfo(dtype)
    if mode == 'low':
        u = _uniform(key, shape, dtype, float(info.tiny), 1.)
        return ew.neg(ew.log(ew.neg(ew.log(u))))
    u = _uniform(key, (2,) + shape, dtype, 0., 1.)
    high, low = (sh.reshape(sh.slice(u, (i,) + (0,) * len(shape), (i + 1,) + shape), shape) for i in (0, 1))
    # below 0.5, refine `high` with `low`'s bits so that x is never 0
    refined = ew.add(ew.add(high, ew.mul(sh.full(shape, 2. ** -info.nmant, dtype), low)),
                     sh.full(shape, float(info.tiny), dtype))
    x = ew.select_n(ew.ge(high, sh.full(shape, .5, dtype)), refined, high)
    return ew.neg(ew.log(ew.neg(ew.log1p_p.bind(ew.neg(x)))))


def categorical(key, logits, axis=-1, shape=None):
    """Indices drawn from softmax(logits) along `axis` (the Gumbel-max trick), as int32.

    The result has shape `shape`, which defaults to logits' shape without `axis`; a
    longer `shape` draws several samples per distribution (leading dimensions).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> logits = fnp.asarray([0.0, -1e9, 1.0])  # the middle category is (practically) impossible
    >>> sorted(set(fd.random.categorical(fd.random.key(0), logits, shape=(100,)).tolist()))
    [0, 2]
    """
    key = _check_key('categorical', key)
    logits = asarray(logits)
    if not dtypes.is_floating(logits.dtype):
        raise TypeError(f"categorical: logits must be floating, got {describe([logits.aval])}")
    if logits.ndim == 0:
        raise ValueError("categorical: logits must have at least one dimension (the categories)")
    axis = normalize_axis('categorical', axis, logits.ndim)
    batch_shape = logits.shape[:axis] + logits.shape[axis + 1:]
    shape = batch_shape if shape is None else _check_shape('categorical', shape)
    if broadcast_shapes('categorical', shape, batch_shape) != shape:
        raise ValueError(f"categorical: shape {shape_str(shape)} must end with (a broadcast of) the batch shape "
                         f"{shape_str(batch_shape)} of the logits")
    prefix = shape[:len(shape) - len(batch_shape)]
    # the samples' shape with the category axis put back at its place among the batch dims
    sample_shape = prefix + shape[len(prefix):][:axis] + (logits.shape[axis],) + shape[len(prefix):][axis:]
    g = _gumbel(key, sample_shape, logits.dtype, 'low')
    return _argmax(ew.add(g, _broadcast_param('categorical', logits, sample_shape)), axis=len(prefix) + axis)


def exponential(key, shape=(), dtype=None):
    """Standard exponential samples (rate 1), -log(1 - u).

    >>> import fn_dl as fd
    >>> x = fd.random.exponential(fd.random.key(0), (10000,))
    >>> abs(float(x.mean()) - 1) < 0.05
    True
    """
    key = _check_key('exponential', key)
    dtype = _float_dtype('exponential', dtype)
    shape = _check_shape('exponential', shape)
    return ew.neg(ew.log1p_p.bind(ew.neg(_uniform(key, shape, dtype, 0., 1.))))


def laplace(key, shape=(), dtype=None):
    """Standard Laplace samples (density exp(-|x|) / 2).

    >>> import fn_dl as fd
    >>> x = fd.random.laplace(fd.random.key(0), (10000,))
    >>> abs(float(x.var()) - 2) < 0.2
    True
    """
    key = _check_key('laplace', key)
    dtype = _float_dtype('laplace', dtype)
    shape = _check_shape('laplace', shape)
    u = _uniform(key, shape, dtype, -1. + float(dtypes.finfo(dtype).epsneg), 1.)
    return ew.mul(ew.sign(u), ew.log1p_p.bind(ew.neg(ew.abs_p.bind(u))))


def logistic(key, shape=(), dtype=None):
    """Standard logistic samples, log(u) - log(1 - u).

    >>> import fn_dl as fd
    >>> x = fd.random.logistic(fd.random.key(0), (10000,))
    >>> abs(float(x.var()) - 3.2899) < 0.3
    True
    """
    key = _check_key('logistic', key)
    dtype = _float_dtype('logistic', dtype)
    shape = _check_shape('logistic', shape)
    u = _uniform(key, shape, dtype, float(dtypes.finfo(dtype).tiny), 1.)
    return ew.sub(ew.log(u), ew.log1p_p.bind(ew.neg(u)))


def cauchy(key, shape=(), dtype=None):
    """Standard Cauchy samples, tan(pi (u - 1/2)).

    >>> import fn_dl as fd
    >>> x = fd.random.cauchy(fd.random.key(0), (10000,))
    >>> abs(float((fd.numpy.abs(x) < 1).mean()) - 0.5) < 0.02
    True
    """
    key = _check_key('cauchy', key)
    dtype = _float_dtype('cauchy', dtype)
    shape = _check_shape('cauchy', shape)
    u = _uniform(key, shape, dtype, float(dtypes.finfo(dtype).eps), 1.)
    return ew.tan_p.bind(ew.mul(sh.full(shape, math.pi, dtype), ew.sub(u, sh.full(shape, .5, dtype))))


def permutation(key, x, axis=0, independent=False):
    """A random permutation of range(x) (an int), or of an array's slices along `axis`.

    With independent=True each 1-d slice along `axis` is shuffled on its own. Each round
    stably sorts by fresh 32-bit random keys, repeated until collisions are unlikely
    to bias the result (JAX's algorithm, so the same permutations as JAX).

    >>> import fn_dl as fd
    >>> sorted(fd.random.permutation(fd.random.key(0), 5).tolist())
    [0, 1, 2, 3, 4]
    """
    key = _check_key('permutation', key)
    if isinstance(x, (bool, np.bool_)):
        raise TypeError("permutation: x must be an int or an array of rank >= 1, got a bool")
    if isinstance(x, (int, np.integer)) or (isinstance(x, Array) and x.ndim == 0):
        if isinstance(x, Array) and not dtypes.is_integer(x.dtype):
            raise TypeError(f"permutation: x must be an int or an array of rank >= 1, got {describe([x.aval])}")
        n = operator.index(x) if not isinstance(x, Array) else int(x)
        if n < 0:
            raise ValueError(f"permutation: cannot permute range({n})")
        return _shuffle(key, sh.iota(dtypes.default_int, (n,)), 0, True)
    x = asarray(x)
    if x.ndim == 0:
        raise TypeError(f"permutation: x must be an int or an array of rank >= 1, got {describe([x.aval])}")
    return _shuffle(key, x, normalize_axis('permutation', axis, x.ndim), independent or x.ndim == 1)


shuffle = permutation


def _shuffle(key, x, axis, independent):
    """x shuffled along `axis` by rounds of stable sorts keyed by random bits.

    Not independent: one key per position, shared across the other axes, so whole slices
    move together (what JAX gets by permuting an index and taking the slices).
    """
    from fn_dl.ops.sort import sort
    n = x.shape[axis]
    size = x.size if independent else n
    # 32-bit sort keys collide; enough rounds make the chance of any pair tying in all of them small
    num_rounds = math.ceil(3 * math.log(max(1, size)) / math.log(2 ** 32 - 1))
    for _ in range(num_rounds):
        key, subkey = split(key)
        if independent:
            sort_keys = _random_bits(subkey, 32, x.shape)
        else:
            sort_keys = sh.broadcast_in_dim(_random_bits(subkey, 32, (n,)), x.shape, (axis,))
        _, x = sort([sort_keys, x], axis, num_keys=1)
    return x


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    """Samples from range(a) (an int) or from an array's slices along `axis`.

    `p` gives the probabilities (default uniform). Without replacement the draws are
    distinct: a prefix of a permutation, or the Gumbel top-k trick when `p` is given.
    The result has shape `shape` (an int a), or a's shape with `axis` replaced by `shape`.

    >>> import fn_dl as fd
    >>> draws = fd.random.choice(fd.random.key(0), 10, (4,), replace=False)
    >>> len(set(draws.tolist()))
    4
    """
    key = _check_key('choice', key)
    shape = _check_shape('choice', shape)
    if isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)):
        arr, n = None, operator.index(a)
    else:
        arr = asarray(a)
        if arr.ndim == 0:
            if not dtypes.is_integer(arr.dtype):
                raise TypeError(f"choice: a must be an int or an array of rank >= 1, got {describe([arr.aval])}")
            arr, n = None, int(arr)
        else:
            axis = normalize_axis('choice', axis, arr.ndim)
            n = arr.shape[axis]
    out_shape = shape if arr is None else arr.shape[:axis] + shape + arr.shape[axis + 1:]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return sh.full(out_shape, 0, dtypes.default_int if arr is None else arr.dtype)
    if n <= 0:
        raise ValueError(f"choice: cannot draw from an empty population (size {n})")
    if not replace and n_draws > n:
        raise ValueError(f"choice: cannot take {n_draws} samples without replacement from a population of {n}")
    if p is None and not replace:
        perm = permutation(key, n if arr is None else arr, axis)
        start = (0,) * perm.ndim
        limit = tuple(n_draws if d == (0 if arr is None else axis) else s for d, s in enumerate(perm.shape))
        return sh.reshape(sh.slice(perm, start, limit), out_shape)
    if p is None:
        ind = randint(key, shape, 0, n)
    else:
        from fn_dl.ops.cumulative import cumsum
        from fn_dl.ops.sort import top_k
        p = asarray(p)
        if not dtypes.is_inexact(p.dtype):
            p = ew.convert_element_type(p, dtypes.default_float)
        if p.shape != (n,):
            raise ValueError(f"choice: p must have shape ({n},) (one probability per choice), "
                             f"got {shape_str(p.shape)}")
        if replace:
            # inverse CDF: where a uniform point of the total mass falls among the cumulative sums
            p_cuml = cumsum(p)
            total = sh.broadcast_in_dim(sh.reshape(sh.slice(p_cuml, (n - 1,), (n,)), ()), shape, ())
            r = ew.mul(total, ew.sub(sh.full(shape, 1, p.dtype), _uniform(key, shape, p.dtype, 0., 1.)))
            from fn_dl.numpy import searchsorted
            ind = searchsorted(p_cuml, r)
        else:
            g = ew.add(_gumbel(key, (n,), p.dtype, 'low'), ew.log(p))
            ind = sh.reshape(top_k(g, n_draws)[1], shape)
    if arr is None:
        return sh.reshape(ind, out_shape)
    from fn_dl.numpy import take
    return sh.reshape(take(arr, ind, axis=axis), out_shape)


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method='cholesky'):
    """Samples of N(mean, cov): mean (..., n), cov (..., n, n); the result has shape shape + (n,).

    `shape` defaults to the broadcast batch shape of mean and cov. The factor of cov is
    its Cholesky factor, or from 'svd' / 'eigh' (which also accept singular cov).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> cov = fnp.asarray([[1.0, 0.5], [0.5, 2.0]])
    >>> fd.random.multivariate_normal(fd.random.key(0), fnp.zeros(2), cov, (5,)).shape
    (5, 2)
    """
    from fn_dl.numpy import matmul, sqrt
    from fn_dl.ops import linalg
    key = _check_key('multivariate_normal', key)
    if method not in ('cholesky', 'svd', 'eigh'):
        raise ValueError(f"multivariate_normal: method must be 'cholesky', 'svd' or 'eigh', got {method!r}")
    mean, cov = asarray(mean), asarray(cov)
    dtype = _float_dtype('multivariate_normal', dtype if dtype is not None else
                         (mean.dtype if dtypes.is_floating(mean.dtype) else None))
    mean, cov = to_dtype('multivariate_normal', mean, dtype), to_dtype('multivariate_normal', cov, dtype)
    if mean.ndim < 1 or cov.ndim < 2:
        raise ValueError(f"multivariate_normal: mean must be (..., n) and cov (..., n, n), got "
                         f"{describe([mean.aval, cov.aval])}")
    n = mean.shape[-1]
    if cov.shape[-2:] != (n, n):
        raise ValueError(f"multivariate_normal: cov must have shape (..., {n}, {n}) to match mean, "
                         f"got {shape_str(cov.shape)}")
    batch = broadcast_shapes('multivariate_normal', mean.shape[:-1], cov.shape[:-2])
    if shape is None:
        shape = batch
    else:
        shape = _check_shape('multivariate_normal', shape)
        if broadcast_shapes('multivariate_normal', shape, batch) != shape:
            raise ValueError(f"multivariate_normal: shape {shape_str(shape)} does not broadcast with the batch "
                             f"shape {shape_str(batch)} of mean and cov")
    if method == 'cholesky':
        factor = linalg.cholesky(cov)
    elif method == 'svd':
        s, u, _ = linalg.svd(cov)
        factor = ew.mul(u, broadcast_to_shape(sh.expand_dims(sqrt(s), (-2,)), u.shape))
    else:
        v, w = linalg.eigh(cov)
        factor = ew.mul(v, broadcast_to_shape(sh.expand_dims(sqrt(w), (-2,)), v.shape))
    z = _normal(key, shape + (n,), dtype)
    return ew.add(broadcast_to_shape(mean, shape + (n,)), sh.squeeze(matmul(factor, sh.expand_dims(z, (-1,))), (-1,)))


def orthogonal(key, n, shape=(), dtype=None, m=None):
    """A random orthogonal n x n matrix (Haar measure), or semi-orthogonal n x m; batch `shape`.

    QR of a Gaussian matrix, with the signs of R's diagonal moved into Q (Mezzadri 2007).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> q = fd.random.orthogonal(fd.random.key(0), 3)
    >>> bool(fnp.allclose(q @ q.T, fnp.eye(3), atol=1e-5))
    True
    """
    from fn_dl.numpy import diagonal, sign
    from fn_dl.ops import linalg
    key = _check_key('orthogonal', key)
    dtype = _float_dtype('orthogonal', dtype)
    shape = _check_shape('orthogonal', shape)
    n = operator.index(n)
    m = n if m is None else operator.index(m)
    if n < 0 or m < 0:
        raise ValueError(f"orthogonal: matrix sizes must be non-negative, got {n} x {m}")
    z = _normal(key, shape + (max(n, m), min(n, m)), dtype)
    q, r = linalg.qr(z)
    d = sh.expand_dims(sign(diagonal(r, axis1=-2, axis2=-1)), (-2,))
    x = ew.mul(q, broadcast_to_shape(d, q.shape))
    return sh.transpose(x, tuple(range(len(shape))) + (len(shape) + 1, len(shape))) if n < m else x


__all__ = ['key', 'PRNGKey', 'key_data', 'split', 'fold_in', 'seed', 'next_key', 'bits', 'uniform', 'normal',
           'truncated_normal', 'bernoulli', 'rademacher', 'randint', 'gumbel', 'categorical', 'exponential',
           'laplace', 'logistic', 'cauchy', 'permutation', 'shuffle', 'choice', 'multivariate_normal', 'orthogonal']
