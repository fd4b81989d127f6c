"""fd.config: global switches.

    fd.config.debug_nans = True          # raise at the first primitive that produces a NaN (eager and jit)
    fd.config.log_compiles = True        # log each XLA compilation (logger 'fn_dl.jit')
    fd.config.explain_cache_misses = True  # log why a jitted call retraced
"""
from __future__ import annotations


class Config:
    log_compiles = False
    explain_cache_misses = False

    def __init__(self):
        self._debug_nans = False

    @property
    def debug_nans(self) -> bool:
        return self._debug_nans

    @debug_nans.setter
    def debug_nans(self, on):
        # the check lives in a trace installed at the bottom of every thread's stack: with it off, the
        # eager fast path is untouched; with it on, every primitive goes through the check
        from fn_dl.core import trace
        from fn_dl.debug import NanCheckTrace
        self._debug_nans = bool(on)
        new = NanCheckTrace() if on else None
        old_default = trace._State.trace
        trace._State.trace = new  # every thread's default
        if trace.state.trace is old_default:  # this thread, outside any transform
            trace.state.trace = new

    def __repr__(self):
        return (f"Config(debug_nans={self.debug_nans}, log_compiles={self.log_compiles}, "
                f"explain_cache_misses={self.explain_cache_misses})")


config = Config()
