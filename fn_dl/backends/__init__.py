"""Backends: array namespaces for eager execution (NumPy, CuPy) and the XLA compiler for jit."""
from __future__ import annotations

from fn_dl.backends import numpy_backend
from fn_dl.core.primitive import register_namespace

register_namespace(numpy_backend.VALUE_TYPES, numpy_backend.namespace, default=True)


class Device:
    """A device arrays can live on."""
    __slots__ = ('platform', 'id')

    def __init__(self, platform, id=0):  # noqa: A002
        self.platform, self.id = platform, id

    def __repr__(self):
        return f"{self.platform.upper()}Device(id={self.id})"

    def __eq__(self, other):
        return isinstance(other, Device) and (self.platform, self.id) == (other.platform, other.id)

    def __hash__(self):
        return hash((self.platform, self.id))


CPU = Device('cpu', 0)


def devices(backend=None):
    """The devices fn_dl can place arrays on.

    >>> import fn_dl as fd
    >>> fd.devices()[0].platform
    'cpu'
    """
    if backend not in (None, 'cpu'):
        raise ValueError(f"devices: backend {backend!r} is not available here; available: 'cpu'")
    return [CPU]


def device_of(value):
    return CPU


def device_put(x, device=None):
    """Place an array (or a pytree of arrays) on `device` (default: the first device)."""
    from fn_dl import tree
    from fn_dl.numpy import asarray
    if device is not None and device not in devices():
        raise ValueError(f"device_put: unknown device {device!r}; available: {devices()}")
    return tree.map(asarray, x)
