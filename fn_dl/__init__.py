"""fn_dl: a functional-transform deep learning library.

>>> import fn_dl as fd, fn_dl.numpy as fnp
>>> f = lambda x: fnp.sum(fnp.tanh(x) ** 2)
>>> g = fd.grad(f)(fnp.asarray([0.0, 1.0]))
>>> [round(v, 4) for v in g.tolist()]
[0.0, 0.6397]
"""
import warnings as _warnings

from fn_dl import ops as _ops  # noqa: F401  (registers the primitives)
from fn_dl import numpy  # noqa: F401
from fn_dl import lax, random, tree  # noqa: F401
from fn_dl._config import config  # noqa: F401
from fn_dl import nn  # noqa: F401,E402
from fn_dl.backends import device_put, devices  # noqa: F401
from fn_dl.core.array import Array  # noqa: F401
from fn_dl.tree import leaves as tree_leaves
from fn_dl.core.trace import ConcretizationError, UnexpectedTracerError  # noqa: F401
from fn_dl.transforms.ad import grad, hessian, jacfwd, jacrev, jvp, linearize, value_and_grad, vjp  # noqa: F401
from fn_dl.transforms.batching import vmap  # noqa: F401
from fn_dl.transforms.custom import checkpoint, custom_jvp, custom_vjp, remat, stop_gradient  # noqa: F401
from fn_dl.transforms.jit import jit, make_ir  # noqa: F401
from fn_dl import data  # noqa: F401,E402
from fn_dl.io import load, save  # noqa: F401,E402
from fn_dl import optim  # noqa: F401,E402

__version__ = '0.1.0'


def block_until_ready(tree):
    """Wait for every array in `tree` (jitted calls run asynchronously, as in JAX); returns the tree.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> fd.block_until_ready(fd.jit(lambda x: x * 2)(fnp.ones(2))).tolist()
    [2.0, 2.0]
    """
    for leaf in tree_leaves(tree):
        if isinstance(leaf, Array):
            leaf.block_until_ready()
    return tree

# NumPy warns on overflow/invalid values inside our eager kernels (e.g. both branches of a batched
# cond); like JAX and PyTorch, fn_dl returns inf/nan silently, and fd.config.debug_nans finds them.
_warnings.filterwarnings('ignore', category=RuntimeWarning, module=r'fn_dl\.')
