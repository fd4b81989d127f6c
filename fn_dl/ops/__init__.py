"""The primitives, grouped by family. Importing this package registers all of them."""
from fn_dl.ops import elementwise, shape, reduce, dot, conv, windowed, linalg, fft, indexing  # noqa: F401
from fn_dl.ops import control_flow, custom, sort, cumulative  # noqa: F401,E402
