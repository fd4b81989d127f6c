"""Linear layers: Identity, Linear, Bilinear, Flatten, Unflatten (PyTorch's math, init and names)."""
from __future__ import annotations

import math

from fn_dl.core.aval import shape_str
from fn_dl.nn import init
from fn_dl.nn._module import Module, Parameter


class Identity(Module):
    """Returns its input; any constructor arguments are ignored (a placeholder, as PyTorch's).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Identity(54, unused='x')(fnp.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x @ weight.T + bias; weight (out_features, in_features), PyTorch's default init.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Linear(20, 1)(fnp.ones((64, 20))).shape
    (64, 1)
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None, key=None):
        super().__init__()
        from fn_dl import random
        self.in_features, self.out_features = in_features, out_features
        dtype = dtype or 'float32'
        k_w, k_b = random.split(init._key(key))
        self.weight = Parameter(init.kaiming_uniform(k_w, (out_features, in_features), a=math.sqrt(5), dtype=dtype))
        if bias:
            bound = 1 / math.sqrt(in_features) if in_features > 0 else 0
            self.bias = Parameter(init.uniform(k_b, (out_features,), -bound, bound, dtype=dtype))
        else:
            self.register_parameter('bias', None)

    def forward(self, input):
        if not input.ndim or input.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}) expected last dim "
                             f"{self.in_features}, got {shape_str(input.shape)}")
        y = input @ self.weight.T
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T A x2 + b, weight (out_features, in1_features, in2_features).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Bilinear(2, 3, 4)(fnp.ones((5, 2)), fnp.ones((5, 3))).shape
    (5, 4)
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, dtype=None, key=None):
        super().__init__()
        from fn_dl import random
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        dtype = dtype or 'float32'
        bound = 1 / math.sqrt(in1_features)
        k_w, k_b = random.split(init._key(key))
        self.weight = Parameter(init.uniform(k_w, (out_features, in1_features, in2_features), -bound, bound, dtype))
        if bias:
            self.bias = Parameter(init.uniform(k_b, (out_features,), -bound, bound, dtype))
        else:
            self.register_parameter('bias', None)

    def forward(self, input1, input2):
        from fn_dl.numpy import einsum
        for x, n, which in ((input1, self.in1_features, 'first'), (input2, self.in2_features, 'second')):
            if not x.ndim or x.shape[-1] != n:
                raise ValueError(f"Bilinear: the {which} input's last dim must be {n}, got {shape_str(x.shape)}")
        y = einsum('...i,oij,...j->...o', input1, self.weight, input2)
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (PyTorch's defaults: 1 to -1).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Flatten()(fnp.ones((2, 3, 4, 5))).shape
    (2, 60)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        s, e = self.start_dim % input.ndim, self.end_dim % input.ndim
        return input.reshape(input.shape[:s] + (-1,) + input.shape[e + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim `dim` into `unflattened_size` (the inverse of Flatten).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Unflatten(1, (3, 4))(fnp.ones((2, 12))).shape
    (2, 3, 4)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        d = self.dim % input.ndim
        return input.reshape(input.shape[:d] + self.unflattened_size + input.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
