"""fn_dl.numpy: the NumPy-compatible, Array API standard namespace, written only with primitives.

>>> import fn_dl.numpy as fnp
>>> x = fnp.asarray([[1.0, 2.0], [3.0, 4.0]])
>>> fnp.sum(x * 2, axis=1).tolist()
[6.0, 14.0]
"""

import sys as _sys

import numpy as _np

from fn_dl import backends as _backends  # noqa: F401  (registers the eager namespaces)
from fn_dl.core.array import Array, install_methods as _install_methods
from fn_dl.numpy import _indexing, fft, linalg  # noqa: F401
from fn_dl.numpy._indexing import *  # noqa: F401,F403
from fn_dl.numpy._sorting import *  # noqa: F401,F403
from fn_dl.numpy._statistics import *  # noqa: F401,F403
from fn_dl.numpy._einsum import *  # noqa: F401,F403
from fn_dl.numpy._convolve import *  # noqa: F401,F403
from fn_dl.numpy._creation import *  # noqa: F401,F403
from fn_dl.numpy._elementwise import *  # noqa: F401,F403
from fn_dl.numpy._manipulation import *  # noqa: F401,F403
from fn_dl.numpy._manipulation import _method_reshape, _method_transpose  # noqa: F401
from fn_dl.numpy._products import *  # noqa: F401,F403
from fn_dl.numpy._reductions import *  # noqa: F401,F403
from fn_dl.numpy._util import array, asarray  # noqa: F401
from fn_dl.numpy._dtypes_api import *  # noqa: F401,F403

__array_api_version__ = '2024.12'
ndarray = Array
# arrays are immutable and have no memory layout to choose: these are asarray
asanyarray = ascontiguousarray = asarray
newaxis = None
e = _np.e
pi = _np.pi
inf = _np.inf
nan = _np.nan
euler_gamma = _np.euler_gamma

_install_methods(_sys.modules[__name__])
