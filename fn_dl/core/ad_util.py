"""Symbolic zeros and undefined primals: the vocabulary of JVP and transpose rules."""
from __future__ import annotations

from fn_dl.core.aval import ShapedArray


class Zero:
    """A tangent or cotangent known to be zero; never materialised unless needed."""
    __slots__ = ('_aval', '_like')

    def __init__(self, aval: ShapedArray):
        self._aval, self._like = aval, None

    @classmethod
    def like(cls, x):
        """The zero tangent of x; its aval is worked out only if a rule asks (most never do)."""
        z = cls.__new__(cls)
        z._aval, z._like = None, x
        return z

    @property
    def aval(self):
        if self._aval is None:
            from fn_dl.core.trace import aval_of
            self._aval = aval_of(self._like)
            self._like = None
        return self._aval

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
