"""fn_dl.data: datasets and a DataLoader that batches, shuffles reproducibly and prefetches.

>>> import fn_dl as fd, fn_dl.numpy as fnp
>>> ds = fd.data.TensorDataset(fnp.ones((10, 3)), fnp.arange(10))
>>> xb, yb = next(iter(fd.data.DataLoader(ds, batch_size=4, shuffle=True, seed=0)))
>>> xb.shape, yb.shape
((4, 3), (4,))
"""
from fn_dl.data._collate import default_collate  # noqa: F401
from fn_dl.data._dataset import Dataset, Subset, TensorDataset, random_split  # noqa: F401
from fn_dl.data._loader import DataLoader  # noqa: F401
