"""pdist: the p-norm distances between all pairs of rows of one matrix (scipy's condensed form)."""
from __future__ import annotations

import numpy as np

from fn_dl.core.aval import shape_str
from fn_dl.nn.functional import _vector_norm


def pdist(input, p=2):
    """|x_i - x_j|_p for every pair of rows i < j of input (N, M), in row-major order: N (N - 1) / 2 values.

    As PyTorch, the gradient at a zero distance is 0.

    >>> import fn_dl.numpy as fnp
    >>> pdist(fnp.asarray([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])).tolist()
    [5.0, 1.0, 4.242640495300293]
    """
    if input.ndim != 2:
        raise ValueError(f"pdist: expected a 2-d input (N, M), got {shape_str(input.shape)}")
    if p < 0:
        raise ValueError(f"pdist: p must be non-negative, got {p}")
    i, j = np.triu_indices(input.shape[0], 1)
    return _vector_norm(input[i] - input[j], p, -1, False)
