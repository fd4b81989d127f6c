"""nn.Module: PyTorch-style stateful modules that are also pytrees.

A module keeps its parameters, buffers and submodules in three ordered dicts,
exactly as torch.nn.Module does, so names (`net.0.weight`) and state_dicts
match PyTorch. Every Module subclass is registered as a pytree whose leaves
are its trainable parameters (Equinox-style), so `fd.grad(loss)(model, x)`
works; buffers and frozen parameters ride along as static data.
"""
from __future__ import annotations

import copy

from collections import OrderedDict

import numpy as np
import optree

from fn_dl import tree as _tree
from fn_dl.core import dtypes
from fn_dl.core.array import Array


# --- modules as pytrees -----------------------------------------------------------------------------

def _trainable(module):
    """(dotted name, parameter) of the parameters that nn.params returns: requires_grad and not None."""
    return [(n, p) for n, p in module.named_parameters() if getattr(p, 'requires_grad', True)]


def _flatten_module(module):
    named = _trainable(module)
    return [p for _, p in named], (module, tuple(n for n, _ in named)), [n for n, _ in named]


def _unflatten_module(aux, leaves):
    template, names = aux
    clone = _clone(template)
    for name, leaf in zip(names, leaves):
        m, attr = clone._owner(name)
        m._parameters[attr] = leaf
    return clone


def _clone(module):
    """A copy of the module tree with fresh parameter/buffer dicts; arrays are shared (immutable)."""
    memo = {}

    def rec(m):
        if id(m) in memo:
            return memo[id(m)]
        c = copy.copy(m)
        memo[id(m)] = c
        object.__setattr__(c, '_parameters', OrderedDict(m._parameters))
        object.__setattr__(c, '_buffers', OrderedDict(m._buffers))
        object.__setattr__(c, '_modules', OrderedDict((k, None if v is None else rec(v)) for k, v in m._modules.items()))
        return c
    return rec(module)


def _register_pytree(cls):
    optree.register_pytree_node(cls, _flatten_module, _unflatten_module, namespace=_tree.NAMESPACE)


class Parameter(Array):
    """An Array that a Module registers as a trainable parameter.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> p = nn.Parameter(fnp.zeros(3))
    >>> p.shape, p.requires_grad
    ((3,), True)
    """
    __slots__ = ('requires_grad',)

    def __init__(self, data=None, requires_grad=True):
        from fn_dl.numpy import asarray, zeros
        data = zeros((0,)) if data is None else asarray(data)
        if not isinstance(data, Array) or type(data) is not Array and not isinstance(data, Parameter):
            raise TypeError(f"Parameter: expected a concrete array, got {type(data).__name__} (parameters are "
                            f"created eagerly, outside transforms)")
        super().__init__(data._value)
        self.requires_grad = requires_grad

    def __repr__(self):
        return 'Parameter containing:\n' + super().__repr__()

    def __deepcopy__(self, memo):
        # a deep-copied module (e.g. TransformerEncoder's layer clones) needs parameters of its own
        return Parameter(self, self.requires_grad)


def _as_array(value):
    from fn_dl.numpy import asarray
    if isinstance(value, Array):
        return value
    if hasattr(value, 'detach') and hasattr(value, 'cpu'):  # a torch tensor
        value = value.detach().cpu().numpy()
    return asarray(value)


class Module:
    """Base class of all layers and models, used exactly like torch.nn.Module.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = nn.Parameter(fnp.ones(2))
    ...         self.register_buffer('count', fnp.zeros((), dtype='int32'))
    ...     def forward(self, x):
    ...         return x * self.w
    >>> m = Affine()
    >>> list(m.state_dict()), m(fnp.asarray([1.0, 2.0])).tolist()
    (['w', 'count'], [1.0, 2.0])
    """

    training: bool

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _register_pytree(cls)

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        object.__setattr__(self, '_parameters', OrderedDict())
        object.__setattr__(self, '_buffers', OrderedDict())
        object.__setattr__(self, '_non_persistent_buffers', set())
        object.__setattr__(self, '_modules', OrderedDict())
        object.__setattr__(self, 'training', True)

    # --- attribute routing, as in PyTorch ------------------------------------------------
    def __setattr__(self, name, value):
        if '_parameters' not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called: call "
                                 f"super().__init__() first in {type(self).__name__}.__init__")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self.__dict__.pop(name, None)
            buffers.pop(name, None)
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            self.__dict__.pop(name, None)
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in params:
            if value is None:
                params[name] = None
            else:  # assigning an array to a parameter slot keeps it a parameter (e.g. inside functional_call)
                params[name] = value if isinstance(value, Array) else _as_array(value)
        elif name in buffers:
            buffers[name] = None if value is None else (value if isinstance(value, Array) else _as_array(value))
        elif name in modules and value is None:
            modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ('_parameters', '_buffers', '_modules'):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be an nn.Parameter or None, got "
                            f"{type(param).__name__}")
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A non-trainable array saved in state_dict (unless persistent=False), e.g. BatchNorm's running stats."""
        if '.' in name or not name:
            raise KeyError(f"register_buffer: invalid buffer name {name!r}")
        self.__dict__.pop(name, None)
        self._buffers[name] = None if tensor is None else _as_array(tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._modules[name] = module

    register_module = add_module

    # --- calling -------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")  # abstract, as in PyTorch

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- traversal -------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix='', remove_duplicate=True):
        memo = set() if memo is None else memo
        if remove_duplicate and id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def _named(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mprefix}.{name}" if mprefix else name), v

    def named_parameters(self, prefix='', recurse=True, remove_duplicate=True):
        return self._named('_parameters', prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix='', recurse=True, remove_duplicate=True):
        return self._named('_buffers', prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    # --- modes and bulk changes --------------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, 'training', bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze parameters; frozen ones are left out of nn.params."""
        for p in self.parameters():
            if isinstance(p, Parameter):
                p.requires_grad = requires_grad
        return self

    def apply(self, fn):
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """Cast floating parameters and buffers to a dtype (`to(fnp.float64)`); devices: the CPU."""
        dtype = kwargs.get('dtype')
        for a in args:
            if not isinstance(a, str) and not hasattr(a, 'platform'):
                dtype = a
        if dtype is None:
            return self
        dtype = dtypes.canonicalize(dtype)
        for m in self.modules():
            for name, p in m._parameters.items():
                if p is not None and dtypes.is_floating(p.dtype):
                    m._parameters[name] = Parameter(p.astype(dtype), getattr(p, 'requires_grad', True))
            for name, b in m._buffers.items():
                if b is not None and dtypes.is_floating(b.dtype):
                    m._buffers[name] = b.astype(dtype)
        return self

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def bfloat16(self):
        return self.to(dtypes.bfloat16)

    def zero_grad(self, set_to_none=True):
        """Nothing to do: gradients are returned by fd.grad, never stored on parameters."""

    # --- state dicts --------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix='', keep_vars=False):
        """Parameters and persistent buffers by PyTorch's dotted names."""
        out = OrderedDict() if destination is None else destination
        for mprefix, m in self.named_modules(prefix=prefix.rstrip('.'), remove_duplicate=False):
            for name, p in m._parameters.items():
                if p is not None:
                    out[f"{mprefix}.{name}" if mprefix else name] = p
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent_buffers:
                    out[f"{mprefix}.{name}" if mprefix else name] = b
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy arrays (fd, NumPy or torch) into this module by name; strict checks keys and shapes."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for k, v in state_dict.items():
            if k in own and tuple(np.shape(v)) != tuple(own[k].shape):
                mismatched.append(f"{k}: checkpoint {tuple(np.shape(v))}, model {tuple(own[k].shape)}")
        if mismatched or (strict and (missing or unexpected)):
            parts = []
            if missing:
                parts.append(f"missing keys: {missing}")
            if unexpected:
                parts.append(f"unexpected keys: {unexpected}")
            if mismatched:
                parts.append("shape mismatches: " + '; '.join(mismatched))
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + '; '.join(parts))
        for k, v in state_dict.items():
            if k not in own:
                continue
            module, name = self._owner(k)
            value = _as_array(v)
            if value.dtype != own[k].dtype:
                value = value.astype(own[k].dtype)
            if name in module._parameters:
                module._parameters[name] = Parameter(value, getattr(module._parameters[name], 'requires_grad', True))
            else:
                module._buffers[name] = value
        return _IncompatibleKeys(missing, unexpected)

    def _owner(self, dotted):
        *path, name = dotted.split('.')
        m = self
        for p in path:
            m = m._modules[p]
        return m, name

    def get_submodule(self, target):
        m = self
        for p in filter(None, target.split('.')):
            if p not in m._modules:
                raise AttributeError(f"{type(m).__name__} has no submodule {p!r}")
            m = m._modules[p]
        return m

    def get_parameter(self, target):
        m, name = self._owner(target)
        return m._parameters[name]

    # --- repr like PyTorch ----------------------------------------------------------------------
    def extra_repr(self):
        return ''

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split('\n')
        for name, m in self._modules.items():
            sub = repr(m).replace('\n', '\n  ')
            lines.append(f"({name}): {sub}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + '\n  '.join(lines) + '\n)'

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)


class _IncompatibleKeys(tuple):
    def __new__(cls, missing, unexpected):
        obj = super().__new__(cls, (missing, unexpected))
        obj.missing_keys, obj.unexpected_keys = missing, unexpected
        return obj


# --- containers ----------------------------------------------------------------------------------

class Sequential(Module):
    """Modules applied in order; indexable, sliceable, iterable like torch.nn.Sequential."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return mods[idx]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules, registered so their parameters are found and named `0.weight`, ..."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        return ModuleList(mods[idx]) if isinstance(idx, slice) else mods[idx]

    def __setitem__(self, idx, module):
        key = list(self._modules)[idx]
        self.add_module(key, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of modules, registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        for k, m in (modules or {}).items():
            self.add_module(k, m)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __contains__(self, key):
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


_register_pytree(Module)

