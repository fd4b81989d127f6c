"""LazyLinear: a Linear whose in_features is read from the input at its first call.

Parameters can only be created from concrete values, so they come into being at the first eager call,
which then turns the module into a plain nn.Linear (as PyTorch's lazy modules become their
`cls_to_become`). Until then there is nothing to train or save: nn.params, named_parameters,
state_dict, load_state_dict, nn.functional_call and fd.grad/jit/vmap over the module raise an error
that says to call it once first, rather than silently seeing no parameters.
"""
from __future__ import annotations

from collections import OrderedDict

from fn_dl.core.array import Tracer
from fn_dl.core.aval import shape_str
from fn_dl.nn._linear import Linear
from fn_dl.nn._module import Module


def _not_yet(module):
    return RuntimeError(
        f"{module!r} has no parameters yet: they are created, with in_features read from the input's last dim, at "
        f"its first call. Call it once eagerly on an example input (model(x), outside grad/vmap/jit) before "
        f"nn.params, state_dict, load_state_dict, nn.functional_call or transforms over it")


class _Uninitialized(OrderedDict):
    """The `_parameters` of a LazyLinear before its first call: empty, and any listing of it raises (every
    parameter traversal of Module, nn.params and functional_call lists the parameter dicts by items())."""

    def __init__(self, owner):
        super().__init__()
        self._owner = owner

    def items(self):
        raise _not_yet(self._owner)

    def values(self):
        raise _not_yet(self._owner)

    def __reduce__(self):  # copies and pickles of the module (which would list the items) keep the placeholder
        return _Uninitialized, (self._owner,)


class LazyLinear(Linear):
    """A Linear(in_features, out_features) whose in_features is the last dim of its first input.

    The first call must be eager (outside grad/vmap/jit): it creates weight and bias with Linear's default
    initialisation and makes the module an nn.Linear. Only then do nn.params / functional_call / state_dict
    see parameters; before, they raise an error that says so.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.Linear(4, 1))
    >>> model[0]
    LazyLinear(in_features=0, out_features=4, bias=True)
    >>> nn.params(model)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: LazyLinear(in_features=0, out_features=4, bias=True) has no parameters yet: ...
    >>> model(fnp.ones((2, 3))).shape
    (2, 1)
    >>> model[0], sorted(nn.params(model))
    (Linear(in_features=3, out_features=4, bias=True), ['0.bias', '0.weight', '2.bias', '2.weight'])
    """

    def __init__(self, out_features, bias=True, dtype=None, key=None):
        Module.__init__(self)
        object.__setattr__(self, '_parameters', _Uninitialized(self))
        self.in_features, self.out_features = 0, out_features
        self._init_args = (bias, dtype, key)

    def forward(self, input):
        if isinstance(input, Tracer):
            raise RuntimeError(f"{self!r}: the first call, which creates the parameters, must be eager (outside "
                               f"grad/vmap/jit); got a traced input {shape_str(input.shape)}")
        if not input.ndim:
            raise ValueError(f"{self!r} expected an input with a last dim (..., in_features), got a scalar")
        bias, dtype, key = self._init_args
        training = self.training
        Linear.__init__(self, input.shape[-1], self.out_features, bias, dtype, key)
        del self._init_args
        object.__setattr__(self, 'training', training)
        object.__setattr__(self, '__class__', Linear)
        return self.forward(input)

    def extra_repr(self):
        return f"in_features=0, out_features={self.out_features}, bias={self._init_args[0]}"
