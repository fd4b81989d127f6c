"""nn.functional: PyTorch's torch.nn.functional, as compositions of fn_dl.numpy / lax / ops functions.

Names, signatures and math follow PyTorch 2.x, so every function works
eagerly and under grad, vmap and jit. Two differences come from immutable
arrays and explicit randomness: `batch_norm` and `instance_norm` return the
new running statistics instead of updating them in place (and `embedding`
with max_norm leaves the weight as it is; `embedding_renorm` returns the
update), and random functions (`dropout`, `dropout1d/2d/3d`,
`alpha_dropout`, `feature_alpha_dropout`, `rrelu` in training,
`gumbel_softmax`, `scaled_dot_product_attention` with dropout_p > 0) take
an optional `key=`; without one they draw from `nn.functional_call(...,
rng=)` or, eagerly, from the global stream.

>>> import fn_dl.numpy as fnp
>>> import fn_dl.nn.functional as F
>>> F.relu(fnp.asarray([-1.0, 2.0])).tolist()
[0.0, 2.0]
>>> round(float(F.cross_entropy(fnp.zeros((2, 4)), fnp.asarray([0, 3]))), 4)
1.3863
"""
from __future__ import annotations

import math
import warnings

import numpy as np

import fn_dl.numpy as fnp
from fn_dl import lax, random
from fn_dl.core import dtypes
from fn_dl.core.array import Tracer
from fn_dl.core.aval import shape_str
from fn_dl.core.staging import StagingTrace
from fn_dl.core.trace import state
from fn_dl.nn._adapter import next_rng_key
from fn_dl.ops.conv import conv_general_dilated
from fn_dl.ops.windowed import reduce_window_max, reduce_window_sum
from fn_dl.transforms.ad import JVPTracer
from fn_dl.transforms.batching import BatchTrace, BatchTracer
from fn_dl.transforms.custom import custom_jvp

__all__ = [
    # activations
    'relu', 'relu6', 'leaky_relu', 'elu', 'selu', 'celu', 'gelu', 'silu', 'mish', 'hardswish', 'hardsigmoid',
    'hardtanh', 'sigmoid', 'tanh', 'softplus', 'softsign', 'logsigmoid', 'softmax', 'log_softmax', 'softmin',
    'glu', 'threshold', 'hardshrink', 'softshrink', 'tanhshrink', 'prelu',
    # linear and dropout
    'linear', 'bilinear', 'dropout', 'dropout1d', 'dropout2d', 'dropout3d',
    # losses
    'cross_entropy', 'nll_loss', 'mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'binary_cross_entropy',
    'binary_cross_entropy_with_logits', 'kl_div', 'margin_ranking_loss', 'hinge_embedding_loss',
    'cosine_embedding_loss', 'soft_margin_loss', 'multilabel_soft_margin_loss', 'triplet_margin_loss',
    'gaussian_nll_loss', 'poisson_nll_loss',
    # distances and utilities
    'cosine_similarity', 'pairwise_distance', 'one_hot', 'normalize', 'pad', 'interpolate', 'pixel_shuffle',
    'pixel_unshuffle',
    # normalisation, embedding, convolution, pooling, attention
    'layer_norm', 'group_norm', 'batch_norm', 'instance_norm', 'rms_norm', 'embedding', 'embedding_renorm',
    'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
    'max_pool1d', 'max_pool2d', 'max_pool3d', 'max_pool1d_with_indices', 'max_pool2d_with_indices',
    'max_pool3d_with_indices', 'max_unpool1d', 'max_unpool2d', 'max_unpool3d', 'avg_pool1d', 'avg_pool2d',
    'avg_pool3d', 'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'adaptive_avg_pool3d', 'adaptive_max_pool1d',
    'adaptive_max_pool2d', 'adaptive_max_pool3d', 'scaled_dot_product_attention',
    # defined in their own modules (with their layers), re-exported at the end of this one
    'unfold', 'fold', 'embedding_bag', 'lp_pool1d', 'lp_pool2d', 'lp_pool3d', 'local_response_norm',
    'channel_shuffle', 'pdist', 'rrelu', 'alpha_dropout', 'feature_alpha_dropout', 'gumbel_softmax', 'affine_grid',
    'grid_sample', 'multi_margin_loss', 'multilabel_margin_loss', 'triplet_margin_with_distance_loss', 'ctc_loss',
]


# --- helpers ----------------------------------------------------------------------------------------

def _ntuple(value, n, what, name):
    """An int or a length-n sequence of ints, as an n-tuple (PyTorch's _single/_pair/_triple)."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"{name}: {what} must be an int or {n} ints, got {value}")
    return value


def _is_concrete(x):
    """True for an eager array, whose values may be checked in Python (never for a traced one)."""
    return not isinstance(x, Tracer)


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average/reduce flags, mapped to a reduction string as PyTorch does."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce are deprecated; use reduction='mean' | 'sum' | 'none'", stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return 'none' if not reduce else 'mean' if size_average else 'sum'


def _reduce(loss, reduction, name):
    if reduction == 'mean':
        return fnp.mean(loss)
    if reduction == 'sum':
        return fnp.sum(loss)
    if reduction == 'none':
        return loss
    raise ValueError(f"{name}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


@custom_jvp
def _value_with_gradient_of(value, differentiable):
    """`value` in the forward pass, differentiated as `differentiable` (same shape; value's own derivative is
    dropped): PyTorch's in-place updates and backward-only rules, e.g. a clamp it applies under no_grad."""
    return value


@_value_with_gradient_of.defjvp
def _value_with_gradient_of_jvp(primals, tangents):
    return primals[0], tangents[1]


def _channel_view(v, ndim):
    """A per-channel vector (C,) shaped (C, 1, ..., 1) to broadcast against (N, C, *spatial) of rank ndim."""
    return v.reshape((-1,) + (1,) * (ndim - 2))


# --- activations --------------------------------------------------------------------------------------
# The gradients at the kinks match PyTorch's (relu'(0) = 0, hardtanh' = 0 at its bounds, ...); branches
# that `where` does not select are fed safe values so their gradients cannot turn into 0 * inf = NaN.

def relu(input, inplace=False):
    """max(x, 0).

    >>> import fn_dl.numpy as fnp
    >>> relu(fnp.asarray([-1.0, 0.0, 3.0])).tolist()
    [0.0, 0.0, 3.0]
    """
    return fnp.where(input > 0, input, 0)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val].

    >>> import fn_dl.numpy as fnp
    >>> hardtanh(fnp.asarray([-3.0, 0.5, 3.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return fnp.where(input <= min_val, min_val, fnp.where(input >= max_val, max_val, input))


def relu6(input, inplace=False):
    """min(max(x, 0), 6).

    >>> import fn_dl.numpy as fnp
    >>> relu6(fnp.asarray([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise.

    >>> import fn_dl.numpy as fnp
    >>> leaky_relu(fnp.asarray([-2.0, 2.0]), 0.5).tolist()
    [-1.0, 2.0]
    """
    return fnp.where(input > 0, input, input * negative_slope)


def _elu(x, alpha, scale, input_scale):
    return fnp.where(x > 0, x * scale, fnp.expm1(fnp.where(x > 0, 0, x) * input_scale) * (alpha * scale))


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise.

    >>> import fn_dl.numpy as fnp
    >>> elu(fnp.asarray([0.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    return _elu(input, alpha, 1.0, 1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants.

    >>> import fn_dl.numpy as fnp
    >>> round(selu(fnp.asarray([1.0])).tolist()[0], 4)
    1.0507
    """
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).

    >>> import fn_dl.numpy as fnp
    >>> celu(fnp.asarray([0.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    if alpha == 0:
        raise ValueError("celu: alpha must be nonzero")
    return _elu(input, alpha, 1.0, 1.0 / alpha)


def gelu(input, approximate='none'):
    """x * Phi(x) with Phi the standard normal CDF; approximate='tanh' uses PyTorch's tanh formula.

    >>> import fn_dl.numpy as fnp
    >>> [round(v, 4) for v in gelu(fnp.asarray([-1.0, 1.0])).tolist()]
    [-0.1587, 0.8413]
    """
    if approximate == 'none':
        return input * 0.5 * (1.0 + lax.erf(input * (1 / math.sqrt(2.0))))
    if approximate == 'tanh':
        inner = math.sqrt(2.0 / math.pi) * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1.0 + fnp.tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def sigmoid(input):
    """1 / (1 + exp(-x)).

    >>> import fn_dl.numpy as fnp
    >>> sigmoid(fnp.asarray([0.0])).tolist()
    [0.5]
    """
    return lax.logistic(fnp.asarray(input))


def tanh(input):
    """The hyperbolic tangent.

    >>> import fn_dl.numpy as fnp
    >>> tanh(fnp.asarray([0.0])).tolist()
    [0.0]
    """
    return fnp.tanh(input)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish).

    >>> import fn_dl.numpy as fnp
    >>> silu(fnp.asarray([0.0])).tolist()
    [0.0]
    """
    return input * sigmoid(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (as PyTorch, for stability).

    >>> import fn_dl.numpy as fnp
    >>> [round(v, 4) for v in softplus(fnp.asarray([0.0, 30.0])).tolist()]
    [0.6931, 30.0]
    """
    bx = input * beta
    linear = bx > threshold
    return fnp.where(linear, input, fnp.log1p(fnp.exp(fnp.where(linear, 0, bx))) / beta)


def mish(input, inplace=False):
    """x * tanh(softplus(x)).

    >>> import fn_dl.numpy as fnp
    >>> mish(fnp.asarray([0.0])).tolist()
    [0.0]
    """
    return input * fnp.tanh(softplus(input))


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6.

    >>> import fn_dl.numpy as fnp
    >>> hardswish(fnp.asarray([-4.0, 0.0, 4.0])).tolist()
    [0.0, 0.0, 4.0]
    """
    return fnp.where(input <= -3, 0, fnp.where(input < 3, input * (input + 3) / 6, input))


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6.

    >>> import fn_dl.numpy as fnp
    >>> hardsigmoid(fnp.asarray([-4.0, 0.0, 4.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return fnp.where(input <= -3, 0, fnp.where(input >= 3, 1, input / 6 + 0.5))


def softsign(input):
    """x / (1 + |x|).

    >>> import fn_dl.numpy as fnp
    >>> softsign(fnp.asarray([1.0, -3.0])).tolist()
    [0.5, -0.75]
    """
    return input / (1 + fnp.abs(input))


def logsigmoid(input):
    """log(sigmoid(x)), computed as -softplus(-x) so it stays finite for large |x|.

    >>> import fn_dl.numpy as fnp
    >>> logsigmoid(fnp.asarray([-100.0])).tolist()
    [-100.0]
    """
    return -softplus(-input)


def _softmax_dim(name, ndim, dim):
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  f"as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _shifted(x, dim):
    """x minus its max along dim (0 for a row of -inf); the shift changes no result, so no gradient flows
    through it."""
    m = lax.stop_gradient(fnp.max(x, axis=dim, keepdims=True))
    return x - fnp.where(m == -math.inf, 0, m)


def _softmax(x, dim, masked_rows_to_zero=False):
    e = fnp.exp(_shifted(x, dim))
    total = fnp.sum(e, axis=dim, keepdims=True)
    if masked_rows_to_zero:  # a row that is -inf throughout gives 0, not 0/0 (PyTorch's attention does this)
        total = fnp.where(total == 0, 1, total)
    return e / total


def softmax(input, dim=None, *, dtype=None):
    """exp(x) / sum(exp(x)) along `dim` (in `dtype` if given).

    >>> import fn_dl.numpy as fnp
    >>> softmax(fnp.zeros((1, 4)), dim=1).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """
    x = fnp.asarray(input) if dtype is None else fnp.asarray(input).astype(dtype)
    return _softmax(x, _softmax_dim('softmax', x.ndim, dim))


def log_softmax(input, dim=None, *, dtype=None):
    """log(softmax(x)) along `dim`, computed stably.

    >>> import fn_dl.numpy as fnp
    >>> [round(v, 4) for v in log_softmax(fnp.zeros(2), dim=0).tolist()]
    [-0.6931, -0.6931]
    """
    x = fnp.asarray(input) if dtype is None else fnp.asarray(input).astype(dtype)
    dim = _softmax_dim('log_softmax', x.ndim, dim)
    s = _shifted(x, dim)
    return s - fnp.log(fnp.sum(fnp.exp(s), axis=dim, keepdims=True))


def softmin(input, dim=None, *, dtype=None):
    """softmax(-x) along `dim`.

    >>> import fn_dl.numpy as fnp
    >>> softmin(fnp.zeros((1, 4)), dim=1).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """
    x = fnp.asarray(input) if dtype is None else fnp.asarray(input).astype(dtype)
    return _softmax(-x, _softmax_dim('softmin', x.ndim, dim))


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, `value` elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> threshold(fnp.asarray([0.5, 1.0, 2.0]), 1.0, -3.0).tolist()
    [-3.0, -3.0, 2.0]
    """
    return fnp.where(input > threshold, input, value)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, 0 elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> hardshrink(fnp.asarray([-1.0, 0.3, 0.7])).tolist()
    [-1.0, 0.0, 0.699999988079071]
    """
    return fnp.where(fnp.abs(input) > lambd, input, 0)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between.

    >>> import fn_dl.numpy as fnp
    >>> softshrink(fnp.asarray([-1.0, 0.3, 1.5])).tolist()
    [-0.5, 0.0, 1.0]
    """
    if lambd < 0:
        raise ValueError(f"softshrink: lambda must be non-negative, got {lambd}")
    return fnp.where(input > lambd, input - lambd, fnp.where(input < -lambd, input + lambd, 0))


def tanhshrink(input):
    """x - tanh(x).

    >>> import fn_dl.numpy as fnp
    >>> tanhshrink(fnp.asarray([0.0])).tolist()
    [0.0]
    """
    return input - fnp.tanh(input)


def prelu(input, weight):
    """max(x, 0) + weight * min(x, 0), weight one value or one per channel (dim 1; below 2-d, one channel).

    >>> import fn_dl.numpy as fnp
    >>> prelu(fnp.asarray([[-2.0, 2.0]]), fnp.asarray([0.25])).tolist()
    [[-0.5, 2.0]]
    """
    weight = fnp.asarray(weight)
    if weight.size != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or weight.shape[0] != channels:
            raise ValueError(f"prelu: weight {shape_str(weight.shape)} must hold one value or one per channel "
                             f"({channels}) of input {shape_str(input.shape)}")
        weight = _channel_view(weight, input.ndim)
    return fnp.where(input > 0, input, input * weight)


def glu(input, dim=-1):
    """The gated linear unit: a * sigmoid(b), with a and b the two halves of x along `dim`.

    >>> import fn_dl.numpy as fnp
    >>> glu(fnp.asarray([2.0, 0.0])).tolist()
    [1.0]
    """
    n = input.shape[dim]
    if n % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {dim} is size {n} "
                         f"(input {shape_str(input.shape)})")
    a, b = fnp.split(input, 2, axis=dim)
    return a * sigmoid(b)


# --- linear and dropout ----------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """x @ weight.T + bias, weight (out_features, in_features).

    >>> import fn_dl.numpy as fnp
    >>> linear(fnp.ones((2, 3)), fnp.ones((4, 3))).shape
    (2, 4)
    """
    if weight.ndim not in (1, 2) or not input.ndim or input.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input {shape_str(input.shape)} and weight {shape_str(weight.shape)} do not fit: "
                         f"the input's last dim must equal weight.shape[-1]")
    y = fnp.matmul(input, weight.T)
    return y if bias is None else y + bias


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1^T A_o x2 + b_o, weight (out_features, in1_features, in2_features).

    >>> import fn_dl.numpy as fnp
    >>> bilinear(fnp.ones((5, 2)), fnp.ones((5, 3)), fnp.ones((4, 2, 3))).shape
    (5, 4)
    """
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ValueError(f"bilinear: inputs {shape_str(input1.shape)} and {shape_str(input2.shape)} do not fit "
                         f"weight {shape_str(weight.shape)} (out_features, in1_features, in2_features)")
    y = fnp.einsum('...i,oij,...j->...o', input1, weight, input2)
    return y if bias is None else y + bias


def _varies_along(x, trace):
    """Whether x carries a batch axis of the vmap `trace` (looking through the tracers of inner transforms)."""
    while isinstance(x, Tracer):
        if x._trace is trace:
            return True
        x = x.val if isinstance(x, BatchTracer) else x.primal if isinstance(x, JVPTracer) else None
    return False


def _random_key(key, what, input):
    """The key a random function of `input` uses (the next one of functional_call's rng when key is None).

    Under vmap, an input that differs per example with a key that does not would give every example the same
    mask, which is almost always a bug: that raises. Sharing stays possible where it is meant: a key batched on
    purpose (one key repeated per example) passes, and so does an input that does not vary along the vmap
    (jacfwd and hessian vmap over tangents, and want the one mask of the function they differentiate). A jit
    inside the vmap hides which of its inputs are batched (the vmap batches the traced program), so the check
    stops at a jit boundary.
    """
    key = next_rng_key(what) if key is None else key
    t = state.trace
    while t is not None and not (type(t) is StagingTrace and not t.partial):
        if isinstance(t, BatchTrace) and _varies_along(input, t) and not _varies_along(key, t):
            n = t.axis_size
            raise ValueError(
                f"{what} under vmap got one key for all {n} examples of input {shape_str(input.shape)}, so every "
                f"example would get the same random mask. Pass one key per example: keys = fd.random.split(key, "
                f"{n}) mapped with in_axes=0, then nn.functional_call(model, params, x, rng=k) (or key=k) inside "
                f"the vmap. To share one mask on purpose, map fnp.broadcast_to(key, ({n},) + key.shape) instead.")
        t = t.parent
    return key


def dropout(input, p=0.5, training=True, inplace=False, *, key=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p); the identity unless training.

    key: the random key; by default the next key of nn.functional_call's `rng`, or, eagerly, of the global
    stream. The same key gives the same mask, in eager, jit and vmap alike.

    Under fd.vmap, give each example its own key, split from one: ``keys = fd.random.split(key, n)`` mapped
    with in_axes=0 (below). One unbatched key for inputs that differ per example would drop the same
    positions in every example, so that raises a ValueError that says so; to share a mask on purpose, map
    a repeated key, ``fnp.broadcast_to(key, (n,) + key.shape)``. Functions whose input does not vary along
    the vmap keep their one mask (jacfwd / hessian of a dropout function work). The check cannot see through
    a jit inside the vmap: ``fd.vmap(fd.jit(f), in_axes=(0, None))(x, key)`` shares the mask silently, as
    JAX and Equinox do in every case; pass per-example keys there too.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> y = dropout(fnp.ones(1000), 0.5, key=fd.random.key(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> dropout(fnp.ones(3), 0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
    >>> x, keys = fnp.ones((4, 8)), fd.random.split(fd.random.key(1), 4)    # one key per example
    >>> masks = fd.vmap(lambda x, k: dropout(x, 0.5, key=k))(x, keys)
    >>> len({tuple(row) for row in masks.tolist()})
    4
    """
    return _dropout('dropout', input, p, training, key, input.shape)


def _dropout(name, input, p, training, key, mask_shape, combine=None):
    """Dropout with one draw per element of mask_shape, broadcast against the input. `combine(input, keep, p)`
    makes the output from the kept-units mask (default: zero the dropped units, scale the kept ones)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return fnp.zeros_like(input)
    keep = random.bernoulli(_random_key(key, name, input), 1.0 - p, mask_shape)
    if combine is not None:
        return combine(input, keep, p)
    return fnp.where(keep, input * (1.0 / (1.0 - p)), 0)


def _feature_dropout(name, input, p, training, key, ranks, unbatched_rank):
    """Dropout of whole channels: one draw per (N, C), or per C for an unbatched input, shared along the rest."""
    if input.ndim not in ranks:
        raise ValueError(f"{name}: expected a {' or '.join(f'{r}-d' for r in ranks)} input (N, C, *spatial) or "
                         f"(C, *spatial), got {shape_str(input.shape)}")
    lead = 1 if input.ndim == unbatched_rank else 2
    return _dropout(name, input, p, training, key, input.shape[:lead] + (1,) * (input.ndim - lead))


def dropout1d(input, p=0.5, training=True, inplace=False, *, key=None):
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scaling the rest by 1 / (1 - p).

    key: as for `dropout` (one key per example under vmap).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> dropout1d(fnp.ones((4, 3)), 0.5, key=fd.random.key(1)).tolist()    # 4 channels of length 3
    [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    """
    return _feature_dropout('dropout1d', input, p, training, key, (2, 3), 2)


def dropout2d(input, p=0.5, training=True, inplace=False, *, key=None):
    """Zero whole channels of (N, C, H, W) with probability p, scaling the rest by 1 / (1 - p).

    As PyTorch (for now), a 3-d input is taken as (N, C, L), not as an unbatched (C, H, W).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> dropout2d(fnp.ones((2, 3, 4, 4)), 0.5, key=fd.random.key(0)).shape
    (2, 3, 4, 4)
    """
    if input.ndim == 3:
        warnings.warn("dropout2d: a 3-d input is taken as (N, C, L) and gets channel-wise 1-d dropout, as in "
                      "PyTorch, whose future releases will read it as an unbatched (C, H, W); use dropout1d for "
                      "(N, C, L)", stacklevel=2)
    return _feature_dropout('dropout2d', input, p, training, key, (3, 4), None)


def dropout3d(input, p=0.5, training=True, inplace=False, *, key=None):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p, scaling the rest by 1 / (1 - p).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> dropout3d(fnp.ones((3, 2, 2, 2)), 0.5, key=fd.random.key(0)).shape
    (3, 2, 2, 2)
    """
    return _feature_dropout('dropout3d', input, p, training, key, (4, 5), 4)


# --- losses ------------------------------------------------------------------------------------------

def _check_weight(name, weight, n_classes):
    if weight is not None and tuple(weight.shape) != (n_classes,):
        raise ValueError(f"{name}: weight must hold one value per class, shape ({n_classes},), got "
                         f"{shape_str(weight.shape)}")


def _class_axis(name, input, target, ignore_index):
    """The class axis of input (N, C, d1, ...) or (C,), after checking class-index targets against it."""
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a scalar")
    cdim = 1 if input.ndim > 1 else 0
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if not dtypes.is_integer(target.dtype):
        raise TypeError(f"{name}: class-index targets must be integers, got {target.dtype}")
    if tuple(target.shape) != expected:
        raise ValueError(f"{name}: for input {shape_str(input.shape)} (N, C, d1, ...) the target must have shape "
                         f"{shape_str(expected)}, got {shape_str(target.shape)}")
    if _is_concrete(target):  # eagerly, an out-of-range class is reported; traced, it cannot be
        t = np.asarray(target)
        bad = t[(t != ignore_index) & ((t < 0) | (t >= input.shape[cdim]))]
        if bad.size:
            raise IndexError(f"{name}: target {bad.flat[0]} is out of bounds for {input.shape[cdim]} classes")
    return cdim


def _nll_terms(logp, target, weight, ignore_index, cdim):
    """Per element: the loss -weight[t] * logp[t] and its weight (0 where target == ignore_index)."""
    valid = target != ignore_index
    safe = fnp.where(valid, target, 0)
    picked = fnp.squeeze(fnp.take_along_axis(logp, fnp.expand_dims(safe, cdim), axis=cdim), cdim)
    w = valid.astype(logp.dtype) if weight is None else fnp.where(valid, fnp.take(weight, safe), 0)
    return -picked * w, w


def _reduce_weighted(loss, w, reduction, name):
    """'mean' divides by the total weight of the counted elements, as PyTorch's nll_loss does."""
    if reduction == 'mean':
        return fnp.sum(loss) / fnp.sum(w)
    return _reduce(loss, reduction, name)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'):
    """Negative log likelihood of class indices, from log-probabilities (N, C, d1, ...) or (C,).

    >>> import fn_dl.numpy as fnp
    >>> nll_loss(fnp.log(fnp.asarray([[0.5, 0.5]])), fnp.asarray([1])).tolist()
    0.6931471824645996
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = fnp.asarray(target)
    cdim = _class_axis('nll_loss', input, target, ignore_index)
    _check_weight('nll_loss', weight, input.shape[cdim])
    loss, w = _nll_terms(input, target, weight, ignore_index, cdim)
    return _reduce_weighted(loss, w, reduction, 'nll_loss')


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean',
                  label_smoothing=0.0):
    """Cross entropy of logits (N, C, d1, ...) or (C,) against class indices or class probabilities.

    Integer targets are class indices (N, d1, ...); floating targets of the input's shape are probabilities.
    weight rescales each class; label_smoothing mixes the target with the uniform distribution.

    >>> import fn_dl.numpy as fnp
    >>> round(float(cross_entropy(fnp.zeros((2, 4)), fnp.asarray([0, 3]), label_smoothing=0.1)), 4)
    1.3863
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, got a scalar")
    target = fnp.asarray(target)
    cdim = 1 if input.ndim > 1 else 0
    n_classes = input.shape[cdim]
    _check_weight('cross_entropy', weight, n_classes)
    logp = log_softmax(input, cdim)
    class_weight = None if weight is None else weight if cdim == 0 else _channel_view(weight, input.ndim)
    if dtypes.is_floating(target.dtype):
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"cross_entropy: class-probability targets must have the input's shape "
                             f"{shape_str(input.shape)}, got {shape_str(target.shape)}")
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        terms = logp * target if class_weight is None else logp * target * class_weight
        return _reduce(-fnp.sum(terms, axis=cdim), reduction, 'cross_entropy')
    _class_axis('cross_entropy', input, target, ignore_index)
    loss, w = _nll_terms(logp, target, weight, ignore_index, cdim)
    if label_smoothing:
        smooth = -fnp.sum(logp if class_weight is None else logp * class_weight, axis=cdim)
        smooth = fnp.where(target != ignore_index, smooth, 0)
        loss = (1 - label_smoothing) * loss + (label_smoothing / n_classes) * smooth
    return _reduce_weighted(loss, w, reduction, 'cross_entropy')


def _broadcast_target(name, input, target):
    input, target = fnp.asarray(input), fnp.asarray(target)
    if input.shape != target.shape:
        warnings.warn(f"{name}: using a target size {shape_str(target.shape)} that is different to the input size "
                      f"{shape_str(input.shape)}; they are broadcast, which is likely not what you want",
                      stacklevel=3)
    return fnp.broadcast_arrays(input, target)


def _pointwise_loss(name, loss, weight, reduction, input_shape, mean_over_weight):
    """Reduce a pointwise loss, with PyTorch's optional per-element weight of the input's shape."""
    if weight is None:
        return _reduce(loss, reduction, name)
    if tuple(weight.shape) != tuple(input_shape):
        raise ValueError(f"{name}: weight must have the input's shape {shape_str(input_shape)}, got "
                         f"{shape_str(weight.shape)}")
    loss = loss * weight
    return fnp.sum(loss) / fnp.sum(weight) if reduction == 'mean' and mean_over_weight else \
        _reduce(loss, reduction, name)


def mse_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean squared error; with `weight`, 'mean' is sum(weight * error) / sum(weight).

    >>> import fn_dl.numpy as fnp
    >>> mse_loss(fnp.asarray([1.0, 3.0]), fnp.asarray([0.0, 0.0])).tolist()
    5.0
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _broadcast_target('mse_loss', input, target)
    return _pointwise_loss('mse_loss', (x - t) ** 2, weight, reduction, input.shape, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean absolute error; with `weight`, 'mean' is sum(weight * error) / sum(weight).

    >>> import fn_dl.numpy as fnp
    >>> l1_loss(fnp.asarray([1.0, -3.0]), fnp.asarray([0.0, 0.0])).tolist()
    2.0
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _broadcast_target('l1_loss', input, target)
    return _pointwise_loss('l1_loss', fnp.abs(x - t), weight, reduction, input.shape, True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - beta / 2 elsewhere (d = input - target); beta=0 is L1.

    >>> import fn_dl.numpy as fnp
    >>> smooth_l1_loss(fnp.asarray([0.5, 3.0]), fnp.zeros(2), reduction='none').tolist()
    [0.125, 2.5]
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    x, t = _broadcast_target('smooth_l1_loss', input, target)
    d = fnp.abs(x - t)
    loss = d if beta == 0 else fnp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce(loss, reduction, 'smooth_l1_loss')


def huber_loss(input, target, reduction='mean', delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) elsewhere (d = input - target).

    >>> import fn_dl.numpy as fnp
    >>> huber_loss(fnp.asarray([0.5, 3.0]), fnp.zeros(2), reduction='none').tolist()
    [0.125, 2.5]
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, t = _broadcast_target('huber_loss', input, target)
    d = fnp.abs(x - t)
    loss = fnp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return _pointwise_loss('huber_loss', loss, weight, reduction, input.shape, False)


def _log_clamped(x):
    """log(x) clamped below at -100 as PyTorch's BCE does; at x = 0 its gradient is 0, not NaN."""
    pos = x > 0
    return fnp.where(pos, fnp.maximum(fnp.log(fnp.where(pos, x, 1)), -100.0), -100.0)


def _same_shape(name, input, target):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{name}: target size {shape_str(target.shape)} must be the same as the input size "
                         f"{shape_str(input.shape)}")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1] (logs clamped at -100, as PyTorch).

    >>> import fn_dl.numpy as fnp
    >>> round(float(binary_cross_entropy(fnp.asarray([0.5]), fnp.asarray([1.0]))), 4)
    0.6931
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = fnp.asarray(target)
    _same_shape('binary_cross_entropy', input, target)
    loss = -(target * _log_clamped(input) + (1 - target) * _log_clamped(1 - input))
    return _reduce(loss if weight is None else loss * weight, reduction, 'binary_cross_entropy')


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction='mean',
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(x), t), computed stably from the logits x; pos_weight weighs the positives
    (one value per class, broadcast along the last dim).

    >>> import fn_dl.numpy as fnp
    >>> round(float(binary_cross_entropy_with_logits(fnp.asarray([0.0]), fnp.asarray([1.0]))), 4)
    0.6931
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = fnp.asarray(target)
    _same_shape('binary_cross_entropy_with_logits', input, target)
    log_p = logsigmoid(input)  # log(1 - sigmoid(x)) = log_p - x
    coef = 1 if pos_weight is None else (pos_weight - 1) * target + 1
    loss = (1 - target) * input - coef * log_p
    return _reduce(loss if weight is None else loss * weight, reduction, 'binary_cross_entropy_with_logits')


def _xlogy(x, y):
    """x * log(y), and 0 where x == 0 (as torch.xlogy); safe inputs keep the gradients finite there."""
    zero = x == 0
    return fnp.where(zero, 0, x * fnp.log(fnp.where(zero, 1, y)))


def kl_div(input, target, size_average=None, reduce=None, reduction='mean', log_target=False):
    """KL(target || input) pointwise, for log-probabilities `input` (and `target` if log_target).

    reduction='batchmean' divides the sum by the batch size (the mathematical KL divergence per example).

    >>> import fn_dl.numpy as fnp
    >>> p = fnp.asarray([[0.5, 0.5]])
    >>> kl_div(fnp.log(p), p, reduction='batchmean').tolist()
    0.0
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = fnp.asarray(target)
    loss = fnp.exp(target) * (target - input) if log_target else _xlogy(target, target) - target * input
    if reduction == 'batchmean':
        return fnp.sum(loss) / input.shape[0] if input.ndim else fnp.sum(loss)
    if reduction == 'mean':
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size and the support "
                      "size; 'batchmean' divides only by the batch size, as the KL divergence is defined",
                      stacklevel=2)
    return _reduce(loss, reduction, 'kl_div')


def _same_rank(name, *arrays):
    if len({a.ndim for a in arrays}) != 1:
        raise ValueError(f"{name}: the inputs must have the same number of dims, got "
                         f"{', '.join(shape_str(a.shape) for a in arrays)}")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction='mean'):
    """max(0, -target (x1 - x2) + margin), target 1 (x1 should rank higher) or -1.

    >>> import fn_dl.numpy as fnp
    >>> margin_ranking_loss(fnp.asarray([2.0, 1.0]), fnp.asarray([1.0, 3.0]), fnp.asarray([1.0, 1.0])).tolist()
    1.0
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input1, input2, target = fnp.asarray(input1), fnp.asarray(input2), fnp.asarray(target)
    _same_rank('margin_ranking_loss', input1, input2, target)
    return _reduce(fnp.maximum(-target * (input1 - input2) + margin, 0), reduction, 'margin_ranking_loss')


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction='mean'):
    """x where target is 1, max(0, margin - x) where it is -1 (x a distance, target 1 for similar pairs).

    >>> import fn_dl.numpy as fnp
    >>> hinge_embedding_loss(fnp.asarray([0.3, 0.4]), fnp.asarray([1.0, -1.0]), reduction='none').tolist()
    [0.30000001192092896, 0.6000000238418579]
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = fnp.asarray(target)
    loss = fnp.where(target != 1, fnp.maximum(margin - input, 0), 0) + fnp.where(target != -1, input, 0)
    return _reduce(loss, reduction, 'hinge_embedding_loss')


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction='mean'):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1; x (N, D) or (D,).

    >>> import fn_dl.numpy as fnp
    >>> cosine_embedding_loss(fnp.asarray([[1.0, 0.0]]), fnp.asarray([[1.0, 1.0]]), fnp.asarray([-1])).tolist()
    0.7071067690849304
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = fnp.asarray(target)
    if input1.shape != input2.shape or input1.ndim not in (1, 2) or target.ndim != input1.ndim - 1:
        raise ValueError(f"cosine_embedding_loss: expected inputs (N, D) or (D,) of one shape and a target (N,) or "
                         f"(), got {shape_str(input1.shape)}, {shape_str(input2.shape)} and {shape_str(target.shape)}")
    dim = input1.ndim - 1
    eps = 1e-12  # PyTorch's, added to the squared norms
    cos = fnp.sum(input1 * input2, axis=dim) / fnp.sqrt(
        (fnp.sum(input1 * input1, axis=dim) + eps) * (fnp.sum(input2 * input2, axis=dim) + eps))
    loss = fnp.where(target == 1, 1 - cos, 0) + fnp.where(target == -1, fnp.maximum(cos - margin, 0), 0)
    return _reduce(loss, reduction, 'cosine_embedding_loss')


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """log(1 + exp(-target x)), target 1 or -1 (a two-class logistic loss).

    >>> import fn_dl.numpy as fnp
    >>> round(float(soft_margin_loss(fnp.asarray([0.0]), fnp.asarray([1.0]))), 4)
    0.6931
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _reduce(softplus(-input * fnp.asarray(target)), reduction, 'soft_margin_loss')


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """Binary cross entropy of logits (N, C) against 0/1 targets, averaged over the C classes per example.

    >>> import fn_dl.numpy as fnp
    >>> round(float(multilabel_soft_margin_loss(fnp.zeros((1, 3)), fnp.asarray([[1.0, 0.0, 1.0]]))), 4)
    0.6931
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = fnp.asarray(target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = fnp.mean(loss, axis=-1)
    return _reduce(loss, reduction, 'multilabel_soft_margin_loss')


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction='mean'):
    """max(0, margin + d(a, p) - d(a, n)) with d the pairwise p-norm distance; swap uses min(d(a, n), d(p, n)).

    >>> import fn_dl.numpy as fnp
    >>> a, pos, neg = fnp.asarray([[0.0, 0.0]]), fnp.asarray([[0.0, 1.0]]), fnp.asarray([[3.0, 0.0]])
    >>> round(float(triplet_margin_loss(a, pos, neg)), 4)
    0.0
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _same_rank('triplet_margin_loss', anchor, positive, negative)
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = fnp.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(fnp.maximum(margin + d_pos - d_neg, 0), reduction, 'triplet_margin_loss')


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean'):
    """0.5 (log var + (input - target)^2 / var) (+ 0.5 log 2 pi if full): the negative log likelihood of target
    under N(input, var). var has the input's shape, one dim fewer, a size-1 dim, or is a float.

    As PyTorch, var is clamped below at eps for the value only (the gradient passes through the clamp).

    >>> import fn_dl.numpy as fnp
    >>> round(float(gaussian_nll_loss(fnp.asarray([1.0]), fnp.asarray([3.0]), fnp.asarray([2.0]))), 4)
    1.3466
    """
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f"gaussian_nll_loss: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    var = fnp.full(input.shape, var, dtype=input.dtype) if isinstance(var, (int, float)) else fnp.asarray(var)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = fnp.expand_dims(var, -1)
        elif not (var.ndim == input.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var {shape_str(var.shape)} is of incorrect size for input "
                             f"{shape_str(input.shape)}")
    if _is_concrete(var) and bool(np.any(np.asarray(var) < 0)):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    var = _value_with_gradient_of(fnp.maximum(lax.stop_gradient(var), eps), var)
    loss = 0.5 * (fnp.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, 'gaussian_nll_loss')


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction='mean'):
    """The negative log likelihood of target under Poisson(rate): exp(x) - target x for log-rates x
    (log_input), else x - target log(x + eps); full adds Stirling's approximation of log(target!) (target > 1).

    >>> import fn_dl.numpy as fnp
    >>> poisson_nll_loss(fnp.asarray([0.0]), fnp.asarray([2.0])).tolist()
    1.0
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = fnp.asarray(target)
    loss = fnp.exp(input) - target * input if log_input else input - target * fnp.log(input + eps)
    if full:
        big = target > 1
        t = fnp.where(big, target, 2)  # a safe value where the term is 0, so its gradient stays finite
        loss = loss + fnp.where(big, t * fnp.log(t) - t + 0.5 * fnp.log(2 * math.pi * t), 0)
    return _reduce(loss, reduction, 'poisson_nll_loss')

# --- distances and utilities ----------------------------------------------------------------------

def _vector_norm(x, p, dim, keepdim):
    """The p-norm along dim; as in PyTorch its gradient at the zero vector is 0 (not NaN)."""
    a = fnp.abs(x)
    if p == math.inf:
        return fnp.max(a, axis=dim, keepdims=keepdim)
    if p == -math.inf:
        return fnp.min(a, axis=dim, keepdims=keepdim)
    if p == 0:
        return fnp.sum((x != 0).astype(x.dtype), axis=dim, keepdims=keepdim)
    if p == 1:
        return fnp.sum(a, axis=dim, keepdims=keepdim)
    s = fnp.sum(x * x if p == 2 else a ** p, axis=dim, keepdims=keepdim)
    nonzero = s > 0
    s = fnp.where(nonzero, s, 1)
    return fnp.where(nonzero, fnp.sqrt(s) if p == 2 else s ** (1.0 / p), 0)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(|x1|, eps) max(|x2|, eps)) along dim (inputs broadcast).

    >>> import fn_dl.numpy as fnp
    >>> cosine_similarity(fnp.asarray([[1.0, 0.0]]), fnp.asarray([[1.0, 1.0]])).tolist()
    [0.7071067690849304]
    """
    x1, x2 = fnp.broadcast_arrays(fnp.asarray(x1), fnp.asarray(x2))
    n1 = fnp.maximum(_vector_norm(x1, 2, dim, True), eps)
    n2 = fnp.maximum(_vector_norm(x2, 2, dim, True), eps)
    return fnp.sum((x1 / n1) * (x2 / n2), axis=dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """|x1 - x2 + eps|_p along the last dim.

    >>> import fn_dl.numpy as fnp
    >>> [round(v, 4) for v in pairwise_distance(fnp.asarray([[3.0, 0.0]]), fnp.asarray([[0.0, 4.0]])).tolist()]
    [5.0]
    """
    return _vector_norm(fnp.asarray(x1) - x2 + eps, p, -1, keepdim)


def one_hot(tensor, num_classes=-1):
    """int64 indicators (..., num_classes) of integer class indices; -1 infers num_classes (eagerly only).

    >>> import fn_dl.numpy as fnp
    >>> one_hot(fnp.asarray([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    t = fnp.asarray(tensor)
    if not dtypes.is_integer(t.dtype):
        raise TypeError(f"one_hot: class values must be integers, got {t.dtype}")
    if _is_concrete(t):
        values = np.asarray(t)
        if num_classes < 0:
            if not values.size:
                raise ValueError("one_hot: cannot infer the number of classes from an empty array; pass num_classes")
            num_classes = int(values.max()) + 1
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"one_hot: class values must lie in [0, {num_classes}), got values from {values.min()} "
                             f"to {values.max()}")
    elif num_classes < 0:
        raise ValueError("one_hot: num_classes=-1 reads the largest class value, which a traced array (under "
                         "jit/vmap/grad) does not have; pass num_classes")
    return (fnp.expand_dims(t, -1) == fnp.arange(num_classes)).astype(fnp.int64)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(|x|_p, eps) along dim.

    >>> import fn_dl.numpy as fnp
    >>> normalize(fnp.asarray([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    return input / fnp.maximum(_vector_norm(input, p, dim, True), eps)


def _pixel_args(name, input, factor, channels_divisible):
    if factor < 1 or input.ndim < 3 or (channels_divisible and input.shape[-3] % (factor * factor)) or \
            (not channels_divisible and (input.shape[-2] % factor or input.shape[-1] % factor)):
        what = (f"channels divisible by {factor * factor}" if channels_divisible else
                f"height and width divisible by {factor}")
        raise ValueError(f"{name}: expected input (*, C, H, W) with {what}, got {shape_str(input.shape)} "
                         f"(factor {factor})")
    return input.shape[:-3], input.ndim - 3


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) to (*, C, H r, W r): out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w], r the factor.

    >>> import fn_dl.numpy as fnp
    >>> pixel_shuffle(fnp.arange(4.0).reshape(4, 1, 1), 2).tolist()
    [[[0.0, 1.0], [2.0, 3.0]]]
    """
    r = int(upscale_factor)
    lead, n = _pixel_args('pixel_shuffle', input, r, True)
    c, h, w = input.shape[-3:]
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    x = fnp.transpose(x, tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return x.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """The inverse of pixel_shuffle: (*, C, H r, W r) to (*, C r^2, H, W).

    >>> import fn_dl.numpy as fnp
    >>> pixel_unshuffle(fnp.arange(4.0).reshape(1, 2, 2), 2).reshape(-1).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    r = int(downscale_factor)
    lead, n = _pixel_args('pixel_unshuffle', input, r, False)
    c, h, w = input.shape[-3:]
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    x = fnp.transpose(x, tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return x.reshape(lead + (c * r * r, h // r, w // r))


_PAD_MODES = {'reflect': 'reflect', 'replicate': 'edge', 'circular': 'wrap'}


def pad(input, pad, mode='constant', value=None):
    """Pad the last len(pad) // 2 dims; pad = (left_last, right_last, left_2nd_last, right_2nd_last, ...).

    mode: 'constant' (value, default 0; negative pads crop), 'reflect', 'replicate' or 'circular'.

    >>> import fn_dl.numpy as fnp
    >>> pad(fnp.asarray([[1.0, 2.0, 3.0]]), (2, 1), mode='reflect').tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: pad {pad} must have an even length of at most 2 * ndim = {2 * input.ndim} for "
                         f"input {shape_str(input.shape)}")
    n = len(pad) // 2
    pairs = [(0, 0)] * (input.ndim - n) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(n))]
    if mode == 'constant':
        fill = fnp.asarray(0 if value is None else value, dtype=input.dtype)
        return lax.pad(input, fill, [(lo, hi, 0) for lo, hi in pairs])
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value is not None:
        raise ValueError(f"pad: mode {mode!r} does not take a value")
    for axis, (lo, hi) in enumerate(pairs):
        size = input.shape[axis]
        limit = {'reflect': size - 1, 'circular': size, 'replicate': math.inf if size else 0}[mode]
        if (lo or hi) and (min(lo, hi) < 0 or max(lo, hi) > limit):
            raise ValueError(f"pad: {mode} padding {(lo, hi)} of dim {axis} must lie in [0, {limit}] for input "
                             f"{shape_str(input.shape)}")
    return fnp.pad(input, pairs, mode=_PAD_MODES[mode])


_LINEAR_MODES = {'linear': 1, 'bilinear': 2, 'trilinear': 3}
_INTERPOLATE_MODES = ('nearest', 'nearest-exact', 'area', 'bicubic') + tuple(_LINEAR_MODES)



def _source_ratio(n_in, n_out, scale, align_corners):
    """PyTorch's area_pixel_compute_scale, in float32 as its CPU kernels: 1 / scale_factor when one was given
    (and not recomputed), else the size ratio; align_corners maps the corner pixels onto each other."""
    if align_corners:
        return np.float32(n_in - 1) / np.float32(n_out - 1) if n_out > 1 else np.float32(0)
    return np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)


def _nearest_taps(n_in, n_out, scale, exact, shortcut):
    """PyTorch's nearest / nearest-exact source index per output index. Its 2-d nearest kernel copies (same
    size) or halves the index (double size) whatever the scale_factor; its 1-d and 3-d ones do not."""
    dst = np.arange(n_out)
    if shortcut and not exact and n_out in (n_in, 2 * n_in):
        return [(dst if n_out == n_in else dst >> 1, None)]
    ratio = _source_ratio(n_in, n_out, scale, False)
    src = ((dst + 0.5) * np.float64(ratio)).astype(np.float32) if exact else dst.astype(np.float32) * ratio
    return [(np.minimum(np.floor(src).astype(np.int64), n_in - 1), None)]


def _interpolation_taps(n_in, n_out, scale, align_corners, cubic):
    """PyTorch's (bi/tri)linear or bicubic taps along one dim: [(input index, weight) per output index]."""
    dst = np.arange(n_out, dtype=np.float32)
    ratio = _source_ratio(n_in, n_out, scale, align_corners)
    src = ratio * dst if align_corners else ratio * (dst + np.float32(0.5)) - np.float32(0.5)
    if not cubic:
        src = np.maximum(src, np.float32(0))
    i = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = np.clip(src - i, 0, 1).astype(np.float32)
    if not cubic:
        return [(i, np.float32(1) - t), (i + (i < n_in - 1), t)]
    weights = [_cubic(d, np.float32(-0.75)) for d in (t + 1, t, 1 - t, 2 - t)]  # PyTorch's A = -0.75
    return [(np.clip(i - 1 + j, 0, n_in - 1), w) for j, w in enumerate(weights)]


def _cubic(x, a):
    """Keys' cubic convolution kernel with parameter a (PyTorch: -0.75, and -0.5 when antialiasing, as PIL)."""
    x = np.abs(x)
    return np.where(x <= 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0))


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0)


def _antialias_taps(n_in, n_out, scale, align_corners, cubic):
    """PyTorch's antialiased taps along one dim: the filter stretched by the downsampling ratio (so every input
    pixel contributes), cut at the border and renormalised to sum 1."""
    ratio = _source_ratio(n_in, n_out, scale, align_corners)
    support = np.float32((2.0 if cubic else 1.0) * max(ratio, 1.0))
    width = int(math.ceil(support)) * 2 + 1
    center = (ratio * (np.arange(n_out) + 0.5)).astype(np.float32)
    lo = np.maximum((center - support + 0.5).astype(np.int64), 0)
    count = np.minimum((center + support + 0.5).astype(np.int64), n_in) - lo
    j = np.arange(width)
    x = ((j + lo[:, None] - center[:, None] + 0.5) / max(ratio, 1.0)).astype(np.float32)
    w = np.where(j < count[:, None], _cubic(x, np.float32(-0.5)) if cubic else _triangle(x), 0).astype(np.float32)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total != 0, w / np.where(total != 0, total, 1), w).astype(np.float32)
    idx = np.minimum(lo[:, None] + j, n_in - 1)
    return [(idx[:, k], w[:, k]) for k in range(width)]


def _resample(x, axis, taps):
    """sum_k x[..., index_k, ...] * weight_k along `axis` (weight None: a plain gather)."""
    along = (-1,) + (1,) * (x.ndim - axis - 1)
    out = None
    for index, weight in taps:
        term = fnp.take(x, index, axis=axis)
        if weight is not None:
            term = term * fnp.asarray(weight.reshape(along), dtype=x.dtype)
        out = term if out is None else out + term
    return out


def interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *spatial) to `size`, or by `scale_factor`, as PyTorch does.

    mode: 'nearest', 'nearest-exact', 'linear' (3-d input), 'bilinear' (4-d), 'bicubic' (4-d), 'trilinear'
    (5-d) or 'area'. align_corners (linear modes and bicubic): map the corner pixels onto each other instead of
    the pixel edges. With scale_factor the output size is floor(size * scale_factor), and the kernels use
    1 / scale_factor itself unless recompute_scale_factor=True (then the size ratio), as PyTorch.
    antialias (bilinear, bicubic): when downsampling, widen the filter so every input pixel contributes.

    >>> import fn_dl.numpy as fnp
    >>> interpolate(fnp.asarray([[[1.0, 2.0]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    >>> interpolate(fnp.asarray([[[1.0, 2.0]]]), size=3, mode='linear', align_corners=True).tolist()
    [[[1.0, 1.5, 2.0]]]
    >>> x = fnp.asarray([[[[0.0, 1.0], [2.0, 3.0]]]])
    >>> interpolate(x, size=(3, 3), mode='bicubic', align_corners=True)[0, 0, 1].tolist()
    [1.0, 1.5, 2.0]
    """
    nsp = input.ndim - 2
    if mode not in _INTERPOLATE_MODES:
        raise ValueError(f"interpolate: mode must be one of {_INTERPOLATE_MODES}, got {mode!r}")
    if nsp not in (1, 2, 3):
        raise ValueError(f"interpolate: input must be 3-d, 4-d or 5-d (N, C, *spatial), got {shape_str(input.shape)}")
    needs = 2 if mode == 'bicubic' else _LINEAR_MODES.get(mode, nsp)
    if needs != nsp:
        raise ValueError(f"interpolate: mode {mode!r} needs a {needs + 2}-d input, got {shape_str(input.shape)}")
    interpolating = mode == 'bicubic' or mode in _LINEAR_MODES
    if align_corners is not None and not interpolating:
        raise ValueError("interpolate: align_corners can only be set with the modes linear, bilinear, bicubic and "
                         "trilinear")
    if antialias and mode not in ('bilinear', 'bicubic'):
        raise ValueError(f"interpolate: antialias is only supported with the modes bilinear and bicubic, got "
                         f"{mode!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sizes = input.shape[2:]
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        out_sizes, scales = _ntuple(size, nsp, 'size', 'interpolate'), (None,) * nsp
    else:
        factors = tuple(float(f) for f in scale_factor) if isinstance(scale_factor, (tuple, list)) \
            else (float(scale_factor),) * nsp
        if len(factors) != nsp:
            raise ValueError(f"interpolate: scale_factor {scale_factor} must have {nsp} entries for input "
                             f"{shape_str(input.shape)}")
        out_sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, factors))
        # as PyTorch: the kernel uses 1 / scale_factor itself unless asked to recompute it from the sizes
        scales = (None,) * nsp if recompute_scale_factor or mode == 'area' else factors
    if min(in_sizes) < 1 or min(out_sizes) < 1:
        raise ValueError(f"interpolate: input and output sizes must be positive, got input {shape_str(input.shape)} "
                         f"and output size {out_sizes}")
    if mode == 'area':
        return _adaptive_avg_pool(input, out_sizes)
    x = input
    for axis, (n_in, n_out, scale) in enumerate(zip(in_sizes, out_sizes, scales), start=2):
        if mode in ('nearest', 'nearest-exact'):
            taps = _nearest_taps(n_in, n_out, scale, mode == 'nearest-exact', nsp == 2)
        elif n_out == n_in and (mode in _LINEAR_MODES or antialias):
            continue  # PyTorch's linear and antialiased kernels copy a dim of unchanged size (plain bicubic does not)
        elif antialias:
            taps = _antialias_taps(n_in, n_out, scale, bool(align_corners), mode == 'bicubic')
        else:
            taps = _interpolation_taps(n_in, n_out, scale, bool(align_corners), mode == 'bicubic')
        x = _resample(x, axis, taps)
    return x


# --- normalisation ------------------------------------------------------------------------------------

def _normalized(x, axes, eps):
    """((x - mean) / sqrt(var + eps), mean, var) over axes, with the biased variance."""
    mean = fnp.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = fnp.mean(centered * centered, axis=axes, keepdims=True)
    return centered * lax.rsqrt(var + eps), mean, var


def _trailing_axes(name, input, normalized_shape):
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(n) for n in normalized_shape)
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ValueError(f"{name}: expected input with trailing dims {shape}, got {shape_str(input.shape)}")
    return tuple(range(-len(shape), 0))


def _affine(y, weight, bias):
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing `normalized_shape` dims, then scale by weight and shift by bias.

    >>> import fn_dl.numpy as fnp
    >>> [round(v, 3) for v in layer_norm(fnp.asarray([1.0, 3.0]), (2,)).tolist()]
    [-1.0, 1.0]
    """
    y, _, _ = _normalized(input, _trailing_axes('layer_norm', input, normalized_shape), eps)
    return _affine(y, weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times weight; eps defaults to the dtype's epsilon.

    >>> import fn_dl.numpy as fnp
    >>> [round(v, 3) for v in rms_norm(fnp.asarray([3.0, 4.0]), (2,)).tolist()]
    [0.849, 1.131]
    """
    axes = _trailing_axes('rms_norm', input, normalized_shape)
    eps = float(fnp.finfo(input.dtype).eps) if eps is None else eps
    y = input * lax.rsqrt(fnp.mean(input * input, axis=axes, keepdims=True) + eps)
    return y if weight is None else y * weight


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) over groups of C / num_groups channels (and all spatial dims), then a per-channel affine.

    >>> import fn_dl.numpy as fnp
    >>> group_norm(fnp.ones((2, 4, 3)), 2).shape
    (2, 4, 3)
    """
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected input (N, C, *) with C divisible by num_groups={num_groups}, got "
                         f"{shape_str(input.shape)}")
    n = input.shape[0]
    y, _, _ = _normalized(input.reshape((n, num_groups, -1)), (2,), eps)
    y = y.reshape(input.shape)
    return _affine(y, None if weight is None else _channel_view(weight, input.ndim),
                   None if bias is None else _channel_view(bias, input.ndim))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation of (N, C, *); returns (output, new_running_mean, new_running_var).

    Arrays are immutable, so unlike PyTorch the running statistics are returned, not updated in place:
    training uses the batch statistics and moves the running ones towards them by `momentum` (the
    variance unbiased); otherwise the running statistics normalise and come back unchanged. The new
    statistics are None where the given ones are.

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.asarray([[0.0], [2.0]])
    >>> y, mean, var = batch_norm(x, fnp.zeros(1), fnp.ones(1), training=True)
    >>> [round(v, 3) for v in y[:, 0].tolist()], mean.tolist(), var.tolist()
    ([-1.0, 1.0], [0.10000000149011612], [1.100000023841858])
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input (N, C, *), got {shape_str(input.shape)}")
    c = input.shape[1]
    for what, v in (('running_mean', running_mean), ('running_var', running_var), ('weight', weight),
                    ('bias', bias)):
        if v is not None and tuple(v.shape) != (c,):
            raise ValueError(f"batch_norm: {what} must hold one value per channel, shape ({c},), for input "
                             f"{shape_str(input.shape)}; got {shape_str(v.shape)}")
    if training:
        axes = (0,) + tuple(range(2, input.ndim))
        count = math.prod(input.shape[a] for a in axes)
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input "
                             f"{shape_str(input.shape)}")
        y, mean, var = _normalized(input, axes, eps)
        if running_mean is not None:
            running_mean = (1 - momentum) * running_mean + momentum * lax.stop_gradient(mean.reshape(c))
        if running_var is not None:
            unbiased = lax.stop_gradient(var.reshape(c)) * (count / (count - 1))
            running_var = (1 - momentum) * running_var + momentum * unbiased
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: training=False normalises with running_mean and running_var, which are "
                             "None; pass them, or training=True to use the batch statistics")
        y = (input - _channel_view(running_mean, input.ndim)) * lax.rsqrt(_channel_view(running_var, input.ndim) + eps)
    y = _affine(y, None if weight is None else _channel_view(weight, input.ndim),
                None if bias is None else _channel_view(bias, input.ndim))
    return y, running_mean, running_var


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each (example, channel) of (N, C, *) over its spatial dims, then a per-channel affine; returns
    (output, new_running_mean, new_running_var) as batch_norm does.

    With use_input_stats the statistics of each instance normalise it, and running statistics that are given
    move towards their mean over the batch by `momentum` (PyTorch's in-place update, returned); otherwise the
    running statistics normalise and come back unchanged.

    >>> import fn_dl.numpy as fnp
    >>> y, _, _ = instance_norm(fnp.asarray([[[1.0, 3.0], [5.0, 5.0]]]))
    >>> [[round(v, 3) for v in row] for row in y[0].tolist()]
    [[-1.0, 1.0], [0.0, 0.0]]
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input (N, C, *spatial), got {shape_str(input.shape)}")
    n, c = input.shape[:2]
    for what, v in (('running_mean', running_mean), ('running_var', running_var), ('weight', weight),
                    ('bias', bias)):
        if v is not None and tuple(v.shape) != (c,):
            raise ValueError(f"instance_norm: {what} must hold one value per channel, shape ({c},), for input "
                             f"{shape_str(input.shape)}; got {shape_str(v.shape)}")
    if use_input_stats and math.prod(input.shape[2:]) <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input "
                         f"{shape_str(input.shape)}")
    # PyTorch's formulation: batch norm of the N * C instances as the channels of one example
    tiled = [None if v is None else fnp.tile(v, n) for v in (running_mean, running_var)]
    y, new_mean, new_var = batch_norm(input.reshape((1, n * c) + input.shape[2:]), *tiled, training=use_input_stats,
                                      momentum=momentum, eps=eps)
    y = _affine(y.reshape(input.shape), None if weight is None else _channel_view(weight, input.ndim),
                None if bias is None else _channel_view(bias, input.ndim))
    if not use_input_stats:
        return y, running_mean, running_var
    return y, *(None if v is None else fnp.mean(v.reshape(n, c), axis=0) for v in (new_mean, new_var))


# --- embedding ---------------------------------------------------------------------------------------

def _renormed_rows(rows, max_norm, norm_type):
    """Rows (..., dim) whose norm exceeds max_norm, scaled to it (with PyTorch's 1e-7 guard)."""
    norms = _vector_norm(rows, norm_type, -1, True)
    return rows * fnp.where(norms > max_norm, max_norm / (norms + 1e-7), 1)


def embedding_renorm(weight, input, max_norm, norm_type=2.0):
    """weight with the rows that `input` looks up rescaled to norm max_norm where theirs is larger.

    The update PyTorch's torch.embedding_renorm_ (and so Embedding(max_norm=...)) makes to the weight in place,
    returned as a new array, not differentiated. In a functional training step, apply it to the parameters to
    reproduce PyTorch's stored weights exactly; the lookups of embedding(..., max_norm=) are renormalised either
    way.

    >>> import fn_dl.numpy as fnp
    >>> embedding_renorm(fnp.asarray([[3.0, 4.0], [0.3, 0.4]]), fnp.asarray([0, 1]), 1.0).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.30000001192092896, 0.4000000059604645]]
    """
    idx = fnp.asarray(input).reshape(-1)
    w = lax.stop_gradient(weight)
    return w.at[idx].set(_renormed_rows(fnp.take(w, idx, axis=0), max_norm, norm_type))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of weight (num_embeddings, embedding_dim) at the integer indices `input`.

    padding_idx: that row receives no gradient (its lookups are treated as constants).
    max_norm: looked-up rows with a larger norm_type-norm come out scaled to norm max_norm. PyTorch also
    rescales those rows of `weight` in place; arrays are immutable, so here the weight is unchanged (see
    `embedding_renorm` for that update, and nn.Embedding, which applies it to its stored weight when called
    eagerly). The gradient is PyTorch's: that of the plain lookup, the rescaling not differentiated.
    scale_grad_by_freq: the gradient of each lookup is divided by the number of times its index occurs in
    `input`. sparse: accepted for compatibility; gradients are dense arrays.

    >>> import fn_dl.numpy as fnp
    >>> embedding(fnp.asarray([[0, 2]]), fnp.arange(6.0).reshape(3, 2)).tolist()
    [[[0.0, 1.0], [4.0, 5.0]]]
    >>> embedding(fnp.asarray([1]), fnp.asarray([[0.0, 0.0], [3.0, 4.0]]), max_norm=1.0).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    idx = fnp.asarray(input)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got {shape_str(weight.shape)}")
    if not dtypes.is_integer(idx.dtype):
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}; cast them with .astype(fnp.int32)")
    n = weight.shape[0]
    if _is_concrete(idx):  # eagerly, a bad index is reported; traced, it cannot be
        values = np.asarray(idx)
        bad = values[(values < 0) | (values >= n)]
        if bad.size:
            raise IndexError(f"embedding: index {bad.flat[0]} is out of range for {n} embeddings")
    if padding_idx is not None and not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings {n}")
    out = fnp.take(weight, idx, axis=0)
    if max_norm is not None:
        out = _value_with_gradient_of(_renormed_rows(lax.stop_gradient(out), max_norm, norm_type), out)
    if scale_grad_by_freq:
        counts = fnp.take(fnp.zeros(n, dtype=out.dtype).at[idx.reshape(-1)].add(1), idx)
        out = _value_with_gradient_of(lax.stop_gradient(out), out / fnp.expand_dims(counts, -1))
    if padding_idx is None:
        return out
    return fnp.where(fnp.expand_dims(idx == padding_idx % n, -1), lax.stop_gradient(out), out)


# --- convolution -------------------------------------------------------------------------------------

def _batched(name, input, nsp):
    """input as (N, C, *spatial): an unbatched (C, *spatial) input gets N = 1."""
    if input.ndim not in (nsp + 1, nsp + 2):
        raise ValueError(f"{name}: expected a {nsp + 1}-d (C, *spatial) or {nsp + 2}-d (N, C, *spatial) input, got "
                         f"{shape_str(input.shape)}")
    return input if input.ndim == nsp + 2 else fnp.expand_dims(input, 0)


def _conv_pads(name, padding, kernel, stride, dilation):
    nsp = len(kernel)
    if isinstance(padding, str):
        if padding == 'valid':
            return [(0, 0)] * nsp
        if padding != 'same':
            raise ValueError(f"{name}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        # PyTorch's 'same': the odd element of the total padding goes on the high side
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    return [(p, p) for p in _ntuple(padding, nsp, 'padding', name)]


def _conv(name, nsp, input, weight, bias, stride, padding, dilation, groups):
    if weight.ndim != nsp + 2:
        raise ValueError(f"{name}: weight must be (out_channels, in_channels / groups, *kernel) of rank {nsp + 2}, "
                         f"got {shape_str(weight.shape)}")
    x = _batched(name, input, nsp)
    if x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ValueError(f"{name}: weight {shape_str(weight.shape)} with groups={groups} expects input with "
                         f"{weight.shape[1] * groups} channels, got input {shape_str(input.shape)}")
    stride = _ntuple(stride, nsp, 'stride', name)
    dilation = _ntuple(dilation, nsp, 'dilation', name)
    pads = _conv_pads(name, padding, weight.shape[2:], stride, dilation)
    y = conv_general_dilated(x, weight, stride, pads, rhs_dilation=dilation, feature_group_count=groups)
    if bias is not None:
        y = y + _channel_view(bias, y.ndim)
    return y if input.ndim == nsp + 2 else y[0]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation of (N, C_in, L) with weight (C_out, C_in / groups, k); padding may be 'same'/'valid'.

    >>> import fn_dl.numpy as fnp
    >>> conv1d(fnp.ones((1, 1, 5)), fnp.ones((1, 1, 3)), padding='same').tolist()
    [[[2.0, 3.0, 3.0, 3.0, 2.0]]]
    """
    return _conv('conv1d', 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation of (N, C_in, H, W) with weight (C_out, C_in / groups, kH, kW).

    >>> import fn_dl.numpy as fnp
    >>> conv2d(fnp.ones((2, 3, 8, 8)), fnp.ones((4, 3, 3, 3)), stride=2, padding=1).shape
    (2, 4, 4, 4)
    """
    return _conv('conv2d', 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d cross-correlation of (N, C_in, D, H, W) with weight (C_out, C_in / groups, kD, kH, kW).

    >>> import fn_dl.numpy as fnp
    >>> conv3d(fnp.ones((1, 2, 4, 4, 4)), fnp.ones((3, 2, 3, 3, 3))).shape
    (1, 3, 2, 2, 2)
    """
    return _conv('conv3d', 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(name, nsp, input, weight, bias, stride, padding, output_padding, groups, dilation):
    if weight.ndim != nsp + 2:
        raise ValueError(f"{name}: weight must be (in_channels, out_channels / groups, *kernel) of rank {nsp + 2}, "
                         f"got {shape_str(weight.shape)}")
    x = _batched(name, input, nsp)
    c_in, c_out_g, kernel = weight.shape[0], weight.shape[1], weight.shape[2:]
    if x.shape[1] != c_in or c_in % groups:
        raise ValueError(f"{name}: weight {shape_str(weight.shape)} (in_channels, out_channels / groups, *kernel) "
                         f"with groups={groups} expects input with {c_in} channels, got input {shape_str(input.shape)}")
    stride, padding, output_padding, dilation = (_ntuple(v, nsp, what, name) for v, what in (
        (stride, 'stride'), (padding, 'padding'), (output_padding, 'output_padding'), (dilation, 'dilation')))
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{name}: output_padding {output_padding} must be smaller than either stride {stride} or "
                         f"dilation {dilation}")
    # the transpose of a strided convolution: convolve the stride-dilated input with the spatially flipped
    # kernel whose in/out axes are swapped within each group, padded by the kernel's reach minus `padding`
    w = weight.reshape((groups, c_in // groups, c_out_g) + kernel)
    w = fnp.swapaxes(w, 1, 2).reshape((groups * c_out_g, c_in // groups) + kernel)
    w = fnp.flip(w, axis=tuple(range(2, 2 + nsp)))
    pads = [(d * (k - 1) - p, d * (k - 1) - p + op) for k, p, op, d in zip(kernel, padding, output_padding, dilation)]
    y = conv_general_dilated(x, w, (1,) * nsp, pads, lhs_dilation=stride, rhs_dilation=dilation,
                             feature_group_count=groups)
    if bias is not None:
        y = y + _channel_view(bias, y.ndim)
    return y if input.ndim == nsp + 2 else y[0]


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 1-d convolution (the gradient of conv1d), weight (C_in, C_out / groups, k).

    >>> import fn_dl.numpy as fnp
    >>> conv_transpose1d(fnp.ones((1, 1, 2)), fnp.ones((1, 1, 3)), stride=2).tolist()
    [[[1.0, 1.0, 2.0, 1.0, 1.0]]]
    """
    return _conv_transpose('conv_transpose1d', 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 2-d convolution (the gradient of conv2d), weight (C_in, C_out / groups, kH, kW).

    >>> import fn_dl.numpy as fnp
    >>> conv_transpose2d(fnp.ones((1, 4, 5, 5)), fnp.ones((4, 2, 3, 3)), stride=2, padding=1,
    ...                  output_padding=1).shape
    (1, 2, 10, 10)
    """
    return _conv_transpose('conv_transpose2d', 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 3-d convolution (the gradient of conv3d), weight (C_in, C_out / groups, kD, kH, kW).

    >>> import fn_dl.numpy as fnp
    >>> conv_transpose3d(fnp.ones((1, 2, 2, 2, 2)), fnp.ones((2, 1, 2, 2, 2)), stride=2).shape
    (1, 1, 4, 4, 4)
    """
    return _conv_transpose('conv_transpose3d', 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


# --- pooling -----------------------------------------------------------------------------------------

def _pool_args(name, input, nsp, kernel_size, stride, padding, dilation):
    if input.ndim not in (nsp + 1, nsp + 2):
        raise ValueError(f"{name}: expected a {nsp + 1}-d (C, *spatial) or {nsp + 2}-d (N, C, *spatial) input, got "
                         f"{shape_str(input.shape)}")
    kernel = _ntuple(kernel_size, nsp, 'kernel_size', name)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        _ntuple(stride, nsp, 'stride', name)
    return kernel, stride, _ntuple(padding, nsp, 'padding', name), _ntuple(dilation, nsp, 'dilation', name)


def _pool_pads(name, in_sizes, kernel, stride, padding, dilation, ceil_mode):
    """Per spatial dim, the (low, high) padding that gives PyTorch's output size (ceil_mode pads the high side
    further, as long as the last window starts inside the input or its low padding)."""
    pads = []
    for n, k, s, p, d in zip(in_sizes, kernel, stride, padding, dilation):
        if p > k // 2:
            raise ValueError(f"{name}: padding {padding} should be at most half of kernel_size {kernel}")
        span = d * (k - 1) + 1
        out = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        if out < 1:
            raise ValueError(f"{name}: input of spatial size {tuple(in_sizes)} is too small for kernel_size "
                             f"{kernel}, stride {stride}, padding {padding}, dilation {dilation}")
        pads.append((p, p + max((out - 1) * s + span - n - 2 * p, 0)))
    return pads


def _windows(dims):
    """Pooling windows over a row-major flattened plane, from per-dim windows [(size, positions (m, k), inside
    (m, k))]: per output position and window element, PyTorch's flat index of that element in the plane and
    whether it lies inside it, and the output sizes. Windows depend only on shapes: NumPy, when tracing."""
    flat, valid = np.zeros((1, 1), np.int64), np.ones((1, 1), bool)
    for n, pos, inside in dims:
        flat = (flat[:, None, :, None] * n + pos[None, :, None, :]).reshape(flat.shape[0] * pos.shape[0], -1)
        valid = (valid[:, None, :, None] & inside[None, :, None, :]).reshape(flat.shape)
    return flat, valid, tuple(pos.shape[0] for _, pos, _ in dims)


def _sliding_windows(in_sizes, pads, kernel, stride, dilation):
    dims = []
    for n, (lo, hi), k, s, d in zip(in_sizes, pads, kernel, stride, dilation):
        pos = (np.arange((n + lo + hi - d * (k - 1) - 1) // s + 1) * s - lo)[:, None] + np.arange(k) * d
        dims.append((n, pos, (pos >= 0) & (pos < n)))
    return _windows(dims)


def _adaptive_windows(in_sizes, out_sizes):
    dims = []
    for n, m in zip(in_sizes, out_sizes):
        start, end = _adaptive_bounds(n, m)
        pos = start[:, None] + np.arange((end - start).max())
        dims.append((n, pos, pos < end[:, None]))
    return _windows(dims)


def _max_pool_with_indices(input, nsp, windows):
    """Max pooling over `windows` that also returns, per output, the flat index of the chosen element in its
    (*spatial) plane, int64, as PyTorch: the first maximum of the window, or its last NaN."""
    lead = input.shape[:-nsp]
    flat, valid, out_sizes = windows
    n_out, k = flat.shape
    plane = input.reshape(lead + (-1,))
    # the choice is not differentiated; the value is gathered at the chosen index, so its gradient goes there
    win = fnp.take(lax.stop_gradient(plane), np.where(valid, flat, 0).ravel(), axis=-1).reshape(lead + flat.shape)
    floating = dtypes.is_floating(input.dtype)
    win = fnp.where(valid, win, -math.inf if floating else fnp.iinfo(input.dtype).min)
    rank = np.arange(k)
    score = fnp.where(valid & (win == fnp.max(win, axis=-1, keepdims=True)), k - rank, 0)
    if floating:
        score = fnp.where(fnp.isnan(win), k + rank, score)
    indices = fnp.take(fnp.asarray(flat.ravel()), fnp.argmax(score, axis=-1) + np.arange(n_out) * k)
    values = fnp.take_along_axis(plane, indices, axis=-1)
    return values.reshape(lead + out_sizes), indices.reshape(lead + out_sizes)


def _max_pool(name, nsp, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    kernel, stride, padding, dilation = _pool_args(name, input, nsp, kernel_size, stride, padding, dilation)
    pads = _pool_pads(name, input.shape[-nsp:], kernel, stride, padding, dilation, ceil_mode)
    if return_indices:
        return _max_pool_with_indices(input, nsp, _sliding_windows(input.shape[-nsp:], pads, kernel, stride, dilation))
    lead = input.ndim - nsp
    return reduce_window_max(input, (1,) * lead + kernel, (1,) * lead + stride, [(0, 0)] * lead + pads,
                             window_dilation=(1,) * lead + dilation)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, L) or (C, L); stride defaults to kernel_size, padding is -inf.

    return_indices: also return, per output, the int64 index of the chosen element along L (what
    max_unpool1d takes), as PyTorch.

    >>> import fn_dl.numpy as fnp
    >>> max_pool1d(fnp.asarray([[1.0, 3.0, 2.0, 5.0]]), 2).tolist()
    [[3.0, 5.0]]
    >>> max_pool1d(fnp.asarray([[1.0, 3.0, 2.0, 5.0]]), 2, return_indices=True)[1].tolist()
    [[1, 3]]
    """
    return _max_pool('max_pool1d', 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, H, W) or (C, H, W); stride defaults to kernel_size, padding is -inf.

    return_indices: also return, per output, the int64 flat index h * W + w of the chosen element in its
    (H, W) plane (what max_unpool2d takes), as PyTorch.

    >>> import fn_dl.numpy as fnp
    >>> max_pool2d(fnp.arange(16.0).reshape(1, 4, 4), 2).tolist()
    [[[5.0, 7.0], [13.0, 15.0]]]
    >>> max_pool2d(fnp.arange(16.0).reshape(1, 4, 4), 2, return_indices=True)[1].tolist()
    [[[5, 7], [13, 15]]]
    """
    return _max_pool('max_pool2d', 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """max_pool1d(..., return_indices=True): (values, int64 indices).

    >>> import fn_dl.numpy as fnp
    >>> [a.tolist() for a in max_pool1d_with_indices(fnp.asarray([[4.0, 3.0, 2.0, 5.0]]), 2)]
    [[[4.0, 5.0]], [[0, 3]]]
    """
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """max_pool2d(..., return_indices=True): (values, int64 flat indices into each (H, W) plane).

    >>> import fn_dl.numpy as fnp
    >>> max_pool2d_with_indices(fnp.arange(16.0).reshape(1, 4, 4), 4)[1].tolist()
    [[[15]]]
    """
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, D, H, W) or (C, D, H, W); stride defaults to kernel_size, padding is -inf.

    return_indices: also return the int64 flat indices (d * H + h) * W + w into each (D, H, W) volume.

    >>> import fn_dl.numpy as fnp
    >>> max_pool3d(fnp.arange(8.0).reshape(1, 2, 2, 2), 2, return_indices=True)[1].tolist()
    [[[[7]]]]
    """
    return _max_pool('max_pool3d', 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """max_pool3d(..., return_indices=True): (values, int64 flat indices into each (D, H, W) volume).

    >>> import fn_dl.numpy as fnp
    >>> max_pool3d_with_indices(fnp.ones((1, 2, 2, 2)), 2)[1].tolist()
    [[[[0]]]]
    """
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _unpool_sizes(name, in_sizes, kernel, stride, padding, output_size):
    """PyTorch's max_unpool output size: (n - 1) * stride - 2 * padding + kernel, or output_size (spatial, or
    with the leading dims) if it lies strictly within one stride of that."""
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(in_sizes, kernel, stride, padding))
    if output_size is None:
        return default
    size = tuple(int(v) for v in output_size)
    nsp = len(default)
    size = size[-nsp:] if len(size) == nsp + 2 else size
    if len(size) != nsp or any(not d - s < v < d + s for v, d, s in zip(size, default, stride)):
        raise ValueError(f"{name}: output_size {tuple(output_size)} must have {nsp} (or {nsp + 2}) entries, each "
                         f"strictly within stride {stride} of the default size {default}")
    return size


def _max_unpool(name, nsp, input, indices, kernel_size, stride, padding, output_size):
    kernel, stride, padding, _ = _pool_args(name, input, nsp, kernel_size, stride, padding, 1)
    indices = fnp.asarray(indices)
    if tuple(indices.shape) != tuple(input.shape) or not dtypes.is_integer(indices.dtype):
        raise ValueError(f"{name}: indices must be integers of the input's shape {shape_str(input.shape)}, got "
                         f"{indices.dtype} {shape_str(indices.shape)}")
    lead = input.shape[:-nsp]
    out_sizes = _unpool_sizes(name, input.shape[-nsp:], kernel, stride, padding, output_size)
    size = math.prod(out_sizes)
    if _is_concrete(indices):  # eagerly, a bad index is reported; traced, it cannot be
        bad = np.asarray(indices)[(np.asarray(indices) < 0) | (np.asarray(indices) >= size)]
        if bad.size:
            raise IndexError(f"{name}: index {bad.flat[0]} is out of range for output size {out_sizes}")
    rows = fnp.arange(math.prod(lead))[:, None]
    idx = indices.reshape((rows.shape[0], -1))
    x = input.reshape(idx.shape)
    zeros = fnp.zeros((rows.shape[0], size), dtype=input.dtype)
    # a value is written once, but its gradient is gathered at every index, as PyTorch's backward does (an
    # element chosen by two overlapping windows appears twice): the derivative is the scatter-add's
    out = _value_with_gradient_of(zeros.at[rows, idx].set(lax.stop_gradient(x)), zeros.at[rows, idx].add(x))
    return out.reshape(lead + out_sizes)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: each value placed at its index (from return_indices), zeros elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> y, i = max_pool1d(fnp.asarray([[1.0, 3.0, 2.0, 5.0]]), 2, return_indices=True)
    >>> max_unpool1d(y, i, 2).tolist()
    [[0.0, 3.0, 0.0, 5.0]]
    """
    return _max_unpool('max_unpool1d', 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: each value placed at its flat (H, W) index, zeros elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> y, i = max_pool2d(fnp.arange(16.0).reshape(1, 4, 4), 2, return_indices=True)
    >>> max_unpool2d(y, i, 2).tolist()[0][1]
    [0.0, 5.0, 0.0, 7.0]
    """
    return _max_unpool('max_unpool2d', 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: each value placed at its flat (D, H, W) index, zeros elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> y, i = max_pool3d(fnp.arange(8.0).reshape(1, 2, 2, 2), 2, return_indices=True)
    >>> max_unpool3d(y, i, 2).reshape(-1).tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0]
    """
    return _max_unpool('max_unpool3d', 3, input, indices, kernel_size, stride, padding, output_size)


def _avg_pool(name, nsp, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    kernel, stride, padding, _ = _pool_args(name, input, nsp, kernel_size, stride, padding, 1)
    in_sizes = input.shape[-nsp:]
    pads = _pool_pads(name, in_sizes, kernel, stride, padding, (1,) * nsp, ceil_mode)
    lead = input.ndim - nsp
    total = reduce_window_sum(input, (1,) * lead + kernel, (1,) * lead + stride, [(0, 0)] * lead + pads)
    if divisor_override:
        return total / divisor_override
    # PyTorch's divisor per window: its extent within the padded input (count_include_pad, which leaves out
    # ceil_mode's overhang) or within the input itself; a product of per-dim counts, known when tracing
    divisor = np.ones(())
    for n, k, s, p, m in zip(in_sizes, kernel, stride, padding, total.shape[lead:]):
        starts = np.arange(m) * s - p
        ends = np.minimum(starts + k, n + p)
        counts = ends - starts if count_include_pad else np.minimum(ends, n) - np.maximum(starts, 0)
        divisor = divisor[..., None] * np.maximum(counts, 1)
    return total / fnp.asarray(divisor, dtype=total.dtype)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of (N, C, L) or (C, L); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> avg_pool1d(fnp.asarray([[1.0, 3.0, 2.0, 6.0]]), 2).tolist()
    [[2.0, 4.0]]
    """
    return _avg_pool('avg_pool1d', 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over windows of (N, C, H, W) or (C, H, W); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> avg_pool2d(fnp.arange(16.0).reshape(1, 4, 4), 2).tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    return _avg_pool('avg_pool2d', 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over windows of (N, C, D, H, W) or (C, D, H, W); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> avg_pool3d(fnp.arange(8.0).reshape(1, 2, 2, 2), 2).tolist()
    [[[[3.5]]]]
    """
    return _avg_pool('avg_pool3d', 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_bounds(n_in, n_out):
    """Adaptive pooling's windows, as PyTorch: output i covers [floor(i n_in / n_out), ceil((i + 1) n_in / n_out))."""
    return np.arange(n_out) * n_in // n_out, -(-(np.arange(1, n_out + 1) * n_in) // n_out)


def _adaptive_matrix(n_in, n_out):
    """(n_out, n_in) averaging weights over the adaptive windows."""
    start, end = _adaptive_bounds(n_in, n_out)
    inside = (np.arange(n_in) >= start[:, None]) & (np.arange(n_in) < end[:, None])
    return inside / (end - start)[:, None]


def _adaptive_avg_pool(input, output_size):
    """Adaptive average pooling of the trailing len(output_size) dims, one matrix product per dim."""
    x = input
    for axis, n_out in enumerate(output_size, start=input.ndim - len(output_size)):
        n_in = x.shape[axis]
        if n_out is not None and n_out != n_in:
            m = fnp.asarray(_adaptive_matrix(n_in, n_out), dtype=x.dtype)
            x = fnp.moveaxis(fnp.tensordot(x, m, axes=([axis], [1])), -1, axis)
    return x


def _adaptive_sizes(name, input, nsp, output_size):
    if input.ndim not in (nsp + 1, nsp + 2) or min(input.shape[-nsp:]) < 1:
        raise ValueError(f"{name}: expected a non-empty {nsp + 1}-d (C, *spatial) or {nsp + 2}-d (N, C, *spatial) "
                         f"input, got {shape_str(input.shape)}")
    sizes = (output_size,) * nsp if output_size is None or isinstance(output_size, (int, np.integer)) else \
        tuple(output_size)
    if len(sizes) != nsp or any(s is not None and int(s) < 1 for s in sizes):
        raise ValueError(f"{name}: output_size must be {nsp} positive ints (or None to keep a size), got "
                         f"{output_size}")
    return tuple(None if s is None else int(s) for s in sizes)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) to length output_size, with PyTorch's window bounds.

    >>> import fn_dl.numpy as fnp
    >>> adaptive_avg_pool1d(fnp.asarray([[1.0, 2.0, 3.0, 4.0, 5.0]]), 2).tolist()
    [[2.0, 4.0]]
    """
    return _adaptive_avg_pool(input, _adaptive_sizes('adaptive_avg_pool1d', input, 1, output_size))


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of (N, C, H, W) or (C, H, W) to output_size (an int, or (H, W) with None keeping a size).

    >>> import fn_dl.numpy as fnp
    >>> adaptive_avg_pool2d(fnp.ones((2, 3, 7, 5)), (2, None)).shape
    (2, 3, 2, 5)
    """
    return _adaptive_avg_pool(input, _adaptive_sizes('adaptive_avg_pool2d', input, 2, output_size))


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to output_size (an int, or 3 with None keeping a size).

    >>> import fn_dl.numpy as fnp
    >>> adaptive_avg_pool3d(fnp.ones((2, 3, 5, 7, 4)), (1, None, 2)).shape
    (2, 3, 1, 7, 2)
    """
    return _adaptive_avg_pool(input, _adaptive_sizes('adaptive_avg_pool3d', input, 3, output_size))


def _adaptive_max_pool(name, nsp, input, output_size, return_indices):
    sizes = _adaptive_sizes(name, input, nsp, output_size)
    in_sizes = input.shape[-nsp:]
    windows = _adaptive_windows(in_sizes, tuple(n if m is None else m for n, m in zip(in_sizes, sizes)))
    values, indices = _max_pool_with_indices(input, nsp, windows)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to length output_size, with PyTorch's window bounds; return_indices
    also returns the int64 indices along L, as max_pool1d.

    >>> import fn_dl.numpy as fnp
    >>> adaptive_max_pool1d(fnp.asarray([[1.0, 5.0, 3.0, 4.0, 2.0]]), 2, return_indices=True)[1].tolist()
    [[1, 3]]
    """
    return _adaptive_max_pool('adaptive_max_pool1d', 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of (N, C, H, W) or (C, H, W) to output_size (an int, or (H, W) with None keeping a size);
    return_indices also returns the int64 flat (H, W) indices, as max_pool2d.

    >>> import fn_dl.numpy as fnp
    >>> adaptive_max_pool2d(fnp.arange(12.0).reshape(1, 3, 4), 1).tolist()
    [[[11.0]]]
    """
    return _adaptive_max_pool('adaptive_max_pool2d', 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to output_size; return_indices as max_pool3d.

    >>> import fn_dl.numpy as fnp
    >>> adaptive_max_pool3d(fnp.ones((2, 3, 5, 7, 4)), (1, None, 2)).shape
    (2, 3, 1, 7, 2)
    """
    return _adaptive_max_pool('adaptive_max_pool3d', 3, input, output_size, return_indices)


# --- attention ---------------------------------------------------------------------------------------

def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False, *, key=None):
    """softmax(q k^T * scale + mask) v for q (..., L, E), k (..., S, E), v (..., S, Ev), as PyTorch.

    attn_mask: boolean (True = attend) or additive, broadcast to (..., L, S); is_causal masks the future.
    Rows with nothing to attend to give 0. dropout_p > 0 drops attention weights with the random `key`
    (PyTorch's second argument, the keys, is named k here because `key` is the random key, as in
    `dropout`). enable_gqa: k and v may have fewer heads (dim -3) than q, shared by groups of q heads.

    >>> import fn_dl.numpy as fnp
    >>> q = kv = fnp.ones((2, 4, 3, 8))
    >>> scaled_dot_product_attention(q, kv, kv, is_causal=True).shape
    (2, 4, 3, 8)
    """
    name = 'scaled_dot_product_attention'
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{name}: expected query (..., L, E), key (..., S, E) and value (..., S, Ev), got "
                         f"{shape_str(q.shape)}, {shape_str(k.shape)} and {shape_str(v.shape)}")
    if enable_gqa and q.ndim >= 3 and q.shape[-3] != k.shape[-3]:
        heads = q.shape[-3]
        if heads % k.shape[-3] or heads % v.shape[-3]:
            raise ValueError(f"{name}: with enable_gqa the query heads ({heads}) must be a multiple of the key and "
                             f"value heads, got {shape_str(q.shape)}, {shape_str(k.shape)}, {shape_str(v.shape)}")
        k = fnp.repeat(k, heads // k.shape[-3], axis=-3)
        v = fnp.repeat(v, heads // v.shape[-3], axis=-3)
    scores = fnp.matmul(q, fnp.swapaxes(k, -1, -2)) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{name}: attn_mask must be None when is_causal=True")
        attn_mask = fnp.tri(q.shape[-2], k.shape[-2], dtype=fnp.bool_)
    if attn_mask is not None:
        attn_mask = fnp.asarray(attn_mask)
        scores = fnp.where(attn_mask, scores, -math.inf) if dtypes.is_bool(attn_mask.dtype) else scores + attn_mask
    weights = _softmax(scores, -1, masked_rows_to_zero=True)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, True, key=key)
    return fnp.matmul(weights, v)


# --- defined with their layers in their own modules, which use the helpers above (so imported last) -----

from fn_dl.nn._channel import channel_shuffle, local_response_norm  # noqa: E402
from fn_dl.nn._ctc import ctc_loss  # noqa: E402
from fn_dl.nn._embedding_bag import embedding_bag  # noqa: E402
from fn_dl.nn._fold import fold, unfold  # noqa: E402
from fn_dl.nn._grid_sample import affine_grid, grid_sample  # noqa: E402
from fn_dl.nn._lp_pool import lp_pool1d, lp_pool2d, lp_pool3d  # noqa: E402
from fn_dl.nn._margin_losses import (multi_margin_loss, multilabel_margin_loss,  # noqa: E402
                                     triplet_margin_with_distance_loss)
from fn_dl.nn._pdist import pdist  # noqa: E402
from fn_dl.nn._stochastic import alpha_dropout, feature_alpha_dropout, gumbel_softmax, rrelu  # noqa: E402
