"""fn_dl.nn: PyTorch-style modules, trainable by pure, jitted, vmap-able steps.

>>> import fn_dl as fd, fn_dl.numpy as fnp
>>> from fn_dl import nn
>>> model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
>>> sorted(nn.params(model))
['0.bias', '0.weight', '1.bias', '1.weight']
>>> nn.functional_call(model, nn.params(model), fnp.ones((2, 3))).shape
(2, 1)
"""
from fn_dl.nn import init  # noqa: F401
from fn_dl.nn._adapter import buffers, functional_call, params  # noqa: F401
from fn_dl.nn._linear import Bilinear, Flatten, Identity, Linear, Unflatten  # noqa: F401
from fn_dl.nn._module import Module, ModuleDict, ModuleList, Parameter, Sequential  # noqa: F401
