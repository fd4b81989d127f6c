"""Global switches: `fd.config.debug_nans = True`, `fd.config.log_compiles`, `fd.config.explain_cache_misses`."""
from __future__ import annotations

debug_nans = False
log_compiles = False
explain_cache_misses = False
