"""The eager CPU backend: NumPy's namespace plus the special functions primitives need.

Primitive impls receive this namespace as `xp`; the CuPy backend builds the
same names from CuPy, so each impl is written once for both.
"""
from __future__ import annotations

import types

import ml_dtypes
import numpy as np
import scipy.special as sp

_LOW_PRECISION = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))


def _upcast(f):
    """scipy.special has no float16/bfloat16 kernels: compute in float32 and round back."""
    def g(*args):
        x = args[-1]
        dt = x.dtype
        if dt in _LOW_PRECISION:
            args = args[:-1] + (x.astype(np.float32),)
        return np.asarray(f(*args)).astype(dt, copy=False)
    return g


def _expit(x):
    # logistic without overflow warnings
    return _upcast(sp.expit)(x)


namespace = types.SimpleNamespace(**{k: v for k, v in vars(np).items() if not k.startswith('__')})
namespace.erf = _upcast(sp.erf)
namespace.erfc = _upcast(sp.erfc)
namespace.erfinv = _upcast(sp.erfinv)
namespace.gammaln = _upcast(sp.gammaln)
namespace.polygamma = _upcast(lambda n, x: sp.polygamma(n, x))
namespace.expit = _expit
namespace.name = 'numpy'

VALUE_TYPES = (np.ndarray,) + tuple(set(np.dtype(t).type for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128, ml_dtypes.bfloat16)))
