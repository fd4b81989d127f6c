"""Shared by the fn_dl.numpy tests: random inputs per dtype, tolerances, and comparison with NumPy."""
import ml_dtypes
import numpy as np

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core import dtypes

BOOL = [dtypes.bool_]
INTS = list(dtypes.INTEGER)
FLOATS = [dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64]
COMPLEX = [dtypes.complex64]
ALL = BOOL + INTS + FLOATS + COMPLEX
SHAPES = [(), (0,), (5,), (2, 3)]


def sample(rng, dtype, shape, lo=-3.0, hi=3.0):
    """Random values of `dtype` in [lo, hi] (integers clipped to the dtype's range)."""
    dtype = np.dtype(dtype)
    if dtypes.is_bool(dtype):
        return rng.random(shape) > 0.5
    if dtypes.is_integer(dtype):
        info = np.iinfo(dtype)
        return rng.integers(max(int(np.floor(lo)), info.min), min(int(np.ceil(hi)), info.max) + 1,
                            shape).astype(dtype)
    x = rng.uniform(lo, hi, shape)
    if dtypes.is_complex(dtype):
        x = x + 1j * rng.uniform(lo, hi, shape)
    return np.asarray(x).astype(dtype)


def rtol(dtype):
    """A few units in the last place of `dtype`: 4 for the 16-bit floats (NumPy computes them in float32 and
    rounds once), 16 for the wider ones (a function of several primitives rounds several times)."""
    dtype = np.dtype(dtype)
    if not dtypes.is_inexact(dtype):
        return 0.0
    return (4 if dtype.itemsize == 2 else 16) * float(ml_dtypes.finfo(dtypes.to_real(dtype)).eps)


def to64(x):
    """A NumPy float64 or complex128 copy (for comparing any dtype, bfloat16 included)."""
    x = np.asarray(x)
    if dtypes.is_complex(x.dtype):
        return x.astype(np.complex128)
    return x.astype(np.float64)


def assert_close(got, want, dtype=None, scale=1.0, err_msg=''):
    """got (an Array) equals want (NumPy) up to a few ulps of got's dtype; NaNs match NaNs.

    `scale` sets the absolute tolerance near zero (ulps of the inputs' magnitude)."""
    dtype = np.dtype(dtype if dtype is not None else got.dtype)
    assert got.dtype == dtype, f'{err_msg}: dtype {got.dtype}, expected {dtype}'
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f'{err_msg}: shape {got.shape}, expected {want.shape}'
    if not dtypes.is_inexact(dtype):
        np.testing.assert_array_equal(got, want.astype(got.dtype), err_msg=err_msg)
        return
    r = rtol(dtype)
    np.testing.assert_allclose(to64(got), to64(want), rtol=r, atol=r * scale, equal_nan=True, err_msg=err_msg)


def check_vmap(f, *args):
    """fd.vmap(f) over the first axis of every argument equals f applied row by row."""
    out = fd.vmap(f)(*args)
    rows = [f(*(a[i] for a in args)) for i in range(args[0].shape[0])]
    want = np.stack([np.asarray(r) for r in rows])
    np.testing.assert_array_equal(to64(out), to64(want))
    return out


def arrays(*values):
    return [fnp.asarray(v) for v in values]
