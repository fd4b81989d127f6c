"""The primitives, grouped by family. Importing this package registers all of them."""
from fn_dl.ops import elementwise, shape, reduce, dot  # noqa: F401
