"""Random test inputs reseeded for each test, so no test depends on which ran before it."""
import numpy as np


class SeededInputs:
    def __init__(self):
        self.reset()

    def reset(self):
        self.rng = np.random.default_rng(0)

    def __call__(self, *shape, dtype=np.float64):
        x = self.rng.standard_normal(shape)
        if np.dtype(dtype).kind == 'c':
            x = x + 1j * self.rng.standard_normal(shape)
        return x.astype(dtype)
