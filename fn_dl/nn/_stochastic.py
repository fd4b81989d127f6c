"""Random layers beyond Dropout: rrelu / RReLU, alpha_dropout / AlphaDropout, feature_alpha_dropout /
FeatureAlphaDropout, and gumbel_softmax.

Their randomness is Dropout's: an explicit `key=`, or the next key of nn.functional_call's `rng` (or, eagerly,
of the global stream), with Dropout's check that vmapped inputs get one key per example.
"""
from __future__ import annotations

import fn_dl.numpy as fnp
from fn_dl import lax, random
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn._dropout import Dropout
from fn_dl.nn._module import Module

# SELU's alpha * scale: the value alpha dropout gives dropped units, SELU's negative saturation
_ALPHA = F._SELU_ALPHA * F._SELU_SCALE


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, *, key=None):
    """Randomised leaky ReLU: x for x > 0, else a * x, with a ~ U(lower, upper) per element in training and
    a = (lower + upper) / 2 otherwise (PyTorch's functional default is training=False).

    key: as F.dropout's (the next key of nn.functional_call's rng, or of the global stream, by default).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> rrelu(fnp.asarray([-3.0, 2.0]), 0.1, 0.3).tolist()
    [-0.6000000238418579, 2.0]
    >>> y = rrelu(-fnp.ones(1000), training=True, key=fd.random.key(0))
    >>> bool(fnp.all((y <= -1 / 8) & (y >= -1 / 3)))
    True
    """
    if lower > upper:
        raise ValueError(f"rrelu: lower bound {lower} should be less than or equal to the upper bound {upper}")
    if not training:
        return F.leaky_relu(input, (lower + upper) / 2)
    slope = random.uniform(F._random_key(key, 'rrelu', input), input.shape, input.dtype, lower, upper)
    return fnp.where(input > 0, input, input * slope)


def _alpha_combine(input, keep, p):
    """PyTorch's alpha dropout: dropped units set to SELU's saturation value, then the affine map that keeps
    zero mean and unit variance: a (x keep + alpha' (1 - keep)) + b."""
    a = ((_ALPHA ** 2 * p + 1) * (1 - p)) ** -0.5
    return fnp.where(keep, input * a, -_ALPHA * a) + _ALPHA * a * p


def _alpha_dropout(name, input, p, training, key, mask_shape):
    return F._dropout(name, input, p, training, key, mask_shape, _alpha_combine)


def alpha_dropout(input, p=0.5, training=False, inplace=False, *, key=None):
    """Dropout for SELU networks: each element is set with probability p to SELU's negative saturation value,
    then all are scaled and shifted to keep the input's mean and variance. The identity unless training (the
    default, as PyTorch's functional form). key: as F.dropout's.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> y = alpha_dropout(fd.random.normal(fd.random.key(0), (100000,)), 0.2, True, key=fd.random.key(1))
    >>> abs(float(y.mean())) < 0.02, abs(float(y.std()) - 1) < 0.02
    (True, True)
    """
    return _alpha_dropout('alpha_dropout', input, p, training, key, input.shape)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, *, key=None):
    """alpha_dropout of whole channels: one draw per (N, C) of (N, C, *), shared along the rest.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> y = feature_alpha_dropout(fnp.ones((2, 3, 4)), 0.5, True, key=fd.random.key(0))
    >>> [len(set(row)) for row in y.reshape(6, 4).tolist()]
    [1, 1, 1, 1, 1, 1]
    """
    if input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: feature dropout requires at least 2 dimensions (N, C, *) in the "
                         f"input, got {shape_str(input.shape)}")
    return _alpha_dropout('feature_alpha_dropout', input, p, training, key,
                          input.shape[:2] + (1,) * (input.ndim - 2))


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1, *, key=None):
    """A sample of the Gumbel-softmax (concrete) distribution: softmax((logits + g) / tau) along dim, g standard
    Gumbel noise. hard=True returns the one-hot of its argmax, differentiated as the soft sample
    (straight-through). eps: unused, as in PyTorch. key: as F.dropout's.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> y = gumbel_softmax(fnp.zeros((2, 5)), hard=True, key=fd.random.key(0))
    >>> y.sum(axis=-1).tolist(), sorted(set(y.ravel().tolist()))
    ([1.0, 1.0], [0.0, 1.0])
    """
    gumbels = random.gumbel(F._random_key(key, 'gumbel_softmax', logits), logits.shape, logits.dtype)
    y_soft = F.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    axis = dim % logits.ndim
    positions = fnp.expand_dims(fnp.arange(logits.shape[axis]), tuple(i for i in range(logits.ndim) if i != axis))
    y_hard = (positions == fnp.argmax(y_soft, axis=axis, keepdims=True)).astype(logits.dtype)
    return y_hard - lax.stop_gradient(y_soft) + y_soft


class RReLU(Module):
    """Randomised leaky ReLU (F.rrelu): random slopes U(lower, upper) in train mode, their mean in eval.

    Keys as Dropout's: nn.functional_call(..., rng=key), or eagerly the global stream.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> act = nn.RReLU(0.1, 0.3)
    >>> act.eval()(fnp.asarray([-1.0, 1.0])).tolist()
    [-0.20000000298023224, 1.0]
    >>> nn.functional_call(act.train(), {}, -fnp.ones(3), rng=fd.random.key(0)).shape
    (3,)
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        if lower > upper:
            raise ValueError(f"RReLU: lower bound {lower} should be less than or equal to the upper bound {upper}")
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class AlphaDropout(Dropout):
    """F.alpha_dropout in train mode, the identity in eval (keys as Dropout).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> y = nn.functional_call(nn.AlphaDropout(0.5), {}, fnp.zeros(1000), rng=fd.random.key(0))
    >>> len(set(y.tolist()))
    2
    """
    _fn = staticmethod(alpha_dropout)


class FeatureAlphaDropout(Dropout):
    """F.feature_alpha_dropout (whole channels of (N, C, *)) in train mode, the identity in eval.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.functional_call(nn.FeatureAlphaDropout(0.2), {}, fnp.ones((2, 3, 4, 4)), rng=fd.random.key(0)).shape
    (2, 3, 4, 4)
    """
    _fn = staticmethod(feature_alpha_dropout)
