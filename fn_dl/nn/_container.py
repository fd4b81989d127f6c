"""ParameterList and ParameterDict: parameters held in a list or dict, named `0`, `1`, ... or by key.

The parameters live in the module's own `_parameters`, as in PyTorch, so they get PyTorch's state_dict
names (`plist.0`, `pdict.name`), are found by nn.params and named_parameters, load with load_state_dict
and are swapped by nn.functional_call. Indexing reads `_parameters` on every access, which is what lets
functional_call's arrays (tracers under grad/jit/vmap) be seen by the forward that indexes them.
"""
from __future__ import annotations

from fn_dl.core.array import Array
from fn_dl.nn._module import Module, Parameter, _as_array


def _as_parameter(value):
    """Arrays become Parameters, as PyTorch's containers wrap plain tensors; None stays None."""
    if value is None or isinstance(value, Parameter):
        return value
    return Parameter(value if isinstance(value, Array) else _as_array(value))


def _describe(p):
    return f"Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"


class ParameterList(Module):
    """A list of parameters, registered under `0`, `1`, ... like torch.nn.ParameterList.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> class Scales(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scales = nn.ParameterList([fnp.ones(2), fnp.full(2, 3.0)])
    ...     def forward(self, x):
    ...         for s in self.scales:
    ...             x = x * s
    ...         return x
    >>> m = Scales()
    >>> sorted(nn.params(m))
    ['scales.0', 'scales.1']
    >>> fd.grad(lambda p: nn.functional_call(m, p, fnp.ones(2)).sum())(nn.params(m))['scales.1'].tolist()
    [1.0, 1.0]
    """

    def __init__(self, values=None):
        super().__init__()
        self.extend(values or ())

    def _key(self, idx):
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"ParameterList: index {idx} is out of range for {n} parameters")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return self._parameters[self._key(idx)]

    def __setitem__(self, idx, value):
        self._parameters[self._key(idx)] = _as_parameter(value)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(list(self._parameters.values()))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        self._parameters[str(len(self))] = _as_parameter(value)
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return '\n'.join(f"({k}): {_describe(p)}" for k, p in self._parameters.items() if p is not None)

    def __repr__(self):
        # PyTorch's layout: one parameter a line, indented by four spaces
        lines = self.extra_repr()
        return f"{type(self).__name__}(\n    " + lines.replace('\n', '\n    ') + '\n)' if lines else \
            f"{type(self).__name__}()"

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called; index it (plist[i]) inside a module's forward")


class ParameterDict(Module):
    """An ordered dict of parameters, registered under their keys like torch.nn.ParameterDict.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> class Gates(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.gates = nn.ParameterDict({'a': fnp.zeros(3), 'b': fnp.ones(3)})
    ...     def forward(self, x, which):
    ...         return x * self.gates[which]
    >>> m = Gates()
    >>> list(m.state_dict())
    ['gates.a', 'gates.b']
    >>> nn.functional_call(m, {'gates.b': fnp.full(3, 2.0)}, fnp.ones(3), 'b').tolist()
    [2.0, 2.0, 2.0]
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _check_key(key):
        if not isinstance(key, str) or not key or '.' in key:
            raise KeyError(f"ParameterDict: keys must be non-empty strings without '.', got {key!r}")
        return key

    def __getitem__(self, key):
        if key not in self._parameters:
            raise KeyError(f"ParameterDict has no parameter {key!r}; keys: {list(self._parameters)}")
        return self._parameters[key]

    def __setitem__(self, key, value):
        self._parameters[self._check_key(key)] = _as_parameter(value)

    def __delitem__(self, key):
        del self._parameters[key]

    def __contains__(self, key):
        return key in self._parameters

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(list(self._parameters))

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        return self._parameters.pop(key)

    def clear(self):
        self._parameters.clear()

    def update(self, parameters):
        items = parameters.items() if hasattr(parameters, 'items') else parameters
        for k, v in items:
            self[k] = v
        return self

    def extra_repr(self):
        return '\n'.join(f"({k}): {_describe(p)}" for k, p in self._parameters.items() if p is not None)

    __repr__ = ParameterList.__repr__

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called; index it (pdict[key]) inside a module's forward")
