"""Debugging aids: finding the primitive that first produced a NaN (fd.config.debug_nans)."""
from __future__ import annotations

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.aval import describe
from fn_dl.core.primitive import eager_apply
from fn_dl.core.trace import Trace, _user_frame


class NanCheckTrace(Trace):
    """The eager interpreter with a NaN check after every primitive."""
    is_transform = False

    def __init__(self):
        super().__init__(None)

    def __repr__(self):
        return 'eager(debug_nans)'

    def process(self, prim, args, params):
        out = eager_apply(prim, args, params)
        for o in (out if prim.multiple_results else [out]):
            if dtypes.is_inexact(o.dtype) and np.isnan(np.asarray(o._host())).any():
                if 'program' in params:
                    # a compiled (or composite) call: re-run its program op by op to find the culprit, as JAX does
                    from fn_dl.core.ir import eval_program
                    eval_program(params['program'], list(args))
                ins = [a.aval for a in args]
                had = any(dtypes.is_inexact(a.dtype) and np.isnan(np.asarray(a._host())).any() for a in args)
                raise FloatingPointError(
                    f"debug_nans: {prim.name} produced NaN from {describe(ins) or 'no inputs'}"
                    f"{' (its inputs already had NaN)' if had else ''}, called at {_user_frame()}")
        return out
