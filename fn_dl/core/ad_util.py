"""Symbolic zeros and undefined primals: the vocabulary of JVP and transpose rules."""
from __future__ import annotations

from fn_dl.core.aval import ShapedArray


class Zero:
    """A tangent or cotangent known to be zero; never materialised unless needed."""
    __slots__ = ('aval',)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


class UndefinedPrimal:
    """A linear input of a transpose rule: only its aval is known."""
    __slots__ = ('aval',)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined(x) -> bool:
    return type(x) is UndefinedPrimal
