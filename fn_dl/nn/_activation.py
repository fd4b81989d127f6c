"""Activation modules: thin Modules over nn.functional, with PyTorch's arguments and reprs.

`inplace=` is accepted for compatibility; arrays are immutable, so it changes nothing.
"""
from __future__ import annotations

from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn import init as _init
from fn_dl.nn._module import Module, Parameter


class _Inplace(Module):
    """An activation without parameters besides PyTorch's (ignored) inplace flag."""
    _fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input)

    def extra_repr(self):
        return 'inplace=True' if self.inplace else ''


class _Plain(Module):
    """An activation without any arguments."""
    _fn = None

    def forward(self, input):
        return type(self)._fn(input)


class ReLU(_Inplace):
    """max(x, 0).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ReLU()(fnp.asarray([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    _fn = F.relu


class ReLU6(_Inplace):
    """min(max(x, 0), 6).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ReLU6()(fnp.asarray([-1.0, 8.0])).tolist()
    [0.0, 6.0]
    """
    _fn = F.relu6


class SELU(_Inplace):
    """The self-normalising ELU, scale * elu(x, alpha).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.SELU()(fnp.asarray([0.0])).tolist()
    [0.0]
    """
    _fn = F.selu


class SiLU(_Inplace):
    """x * sigmoid(x).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.SiLU()(fnp.asarray([0.0])).tolist()
    [0.0]
    """
    _fn = F.silu


class Mish(_Inplace):
    """x * tanh(softplus(x)).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Mish()(fnp.asarray([0.0])).tolist()
    [0.0]
    """
    _fn = F.mish


class Hardswish(_Inplace):
    """x * relu6(x + 3) / 6.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Hardswish()(fnp.asarray([-4.0, 4.0])).tolist()
    [0.0, 4.0]
    """
    _fn = F.hardswish


class Hardsigmoid(_Inplace):
    """relu6(x + 3) / 6.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Hardsigmoid()(fnp.asarray([0.0])).tolist()
    [0.5]
    """
    _fn = F.hardsigmoid


class Sigmoid(_Plain):
    """1 / (1 + exp(-x)).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Sigmoid()(fnp.asarray([0.0])).tolist()
    [0.5]
    """
    _fn = F.sigmoid


class Tanh(_Plain):
    """The hyperbolic tangent.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Tanh()(fnp.asarray([0.0])).tolist()
    [0.0]
    """
    _fn = F.tanh


class Softsign(_Plain):
    """x / (1 + |x|).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Softsign()(fnp.asarray([1.0])).tolist()
    [0.5]
    """
    _fn = F.softsign


class LogSigmoid(_Plain):
    """log(sigmoid(x)).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.LogSigmoid()(fnp.asarray([-100.0])).tolist()
    [-100.0]
    """
    _fn = F.logsigmoid


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.LeakyReLU(0.1)(fnp.asarray([-1.0, 2.0])).tolist()
    [-0.10000000149011612, 2.0]
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (', inplace=True' if self.inplace else '')


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ELU()(fnp.asarray([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (', inplace=True' if self.inplace else '')


class CELU(ELU):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.CELU(2.0)(fnp.asarray([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """

    def forward(self, input):
        return F.celu(input, self.alpha)


class GELU(Module):
    """x * Phi(x); approximate='tanh' for the tanh approximation.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.GELU(approximate='tanh')(fnp.asarray([0.0])).tolist()
    [0.0]
    """

    def __init__(self, approximate='none'):
        super().__init__()
        if approximate not in ('none', 'tanh'):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val].

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Hardtanh(-2.0, 2.0)(fnp.asarray([-3.0, 3.0])).tolist()
    [-2.0, 2.0]
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (', inplace=True' if self.inplace else '')


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, linear above threshold.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Softplus()(fnp.asarray([30.0])).tolist()
    [30.0]
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _AlongDim(Module):
    _fn = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self)._fn(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """softmax along dim.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Softmax(dim=-1)(fnp.zeros((1, 2))).tolist()
    [[0.5, 0.5]]
    """
    _fn = F.softmax


class LogSoftmax(_AlongDim):
    """log_softmax along dim.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.LogSoftmax(dim=-1)(fnp.zeros((1, 1))).tolist()
    [[0.0]]
    """
    _fn = F.log_softmax


class GLU(_AlongDim):
    """The gated linear unit along dim (default -1): a * sigmoid(b) for the two halves a, b.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.GLU()(fnp.asarray([2.0, 0.0])).tolist()
    [1.0]
    """
    _fn = F.glu

    def __init__(self, dim=-1):
        super().__init__(dim)


class Softmin(_AlongDim):
    """softmax(-x) along dim.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Softmin(dim=-1)(fnp.zeros((1, 2))).tolist()
    [[0.5, 0.5]]
    """
    _fn = F.softmin


class Softmax2d(Module):
    """softmax over the channels (dim -3) of (N, C, H, W) or (C, H, W).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Softmax2d()(fnp.zeros((1, 4, 2, 2)))[0, :, 0, 0].tolist()
    [0.25, 0.25, 0.25, 0.25]
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {shape_str(input.shape)}")
        return F.softmax(input, -3)


class Threshold(Module):
    """x where x > threshold, value elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Threshold(0.1, 20.0)(fnp.asarray([0.0, 1.0])).tolist()
    [20.0, 1.0]
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class _Shrink(Module):
    _fn = None

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return type(self)._fn(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Hardshrink(_Shrink):
    """x where |x| > lambd, 0 elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Hardshrink()(fnp.asarray([-1.0, 0.2])).tolist()
    [-1.0, 0.0]
    """
    _fn = F.hardshrink


class Softshrink(_Shrink):
    """x shrunk towards 0 by lambd (0 within [-lambd, lambd]).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Softshrink()(fnp.asarray([-1.0, 0.2])).tolist()
    [-0.5, 0.0]
    """
    _fn = F.softshrink


class Tanhshrink(_Plain):
    """x - tanh(x).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Tanhshrink()(fnp.asarray([0.0])).tolist()
    [0.0]
    """
    _fn = F.tanhshrink


class PReLU(Module):
    """max(x, 0) + a * min(x, 0) with a learnt slope a: one, or one per channel (num_parameters), init 0.25.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.PReLU()(fnp.asarray([-2.0, 2.0])).tolist()
    [-0.5, 2.0]
    """

    def __init__(self, num_parameters=1, init=0.25, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(_init.constant((num_parameters,), init, dtype or 'float32'))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
