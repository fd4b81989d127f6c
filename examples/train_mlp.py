"""Train a PyTorch-style MLP with a pure, jitted step: the main example.

Regression: X ~ N(0, 1) of shape (2048, 20), y = X @ w + 0.1 * noise.
Run: python examples/train_mlp.py   (add --quick for a smoke run)
"""
import argparse
import os
import tempfile

import numpy as np
from tqdm import tqdm

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import nn


class MLP(nn.Module):                        # written exactly like PyTorch
    def __init__(self, d_in, hidden=128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def main(quick=False):
    n, d, epochs = (512, 20, 3) if quick else (2048, 20, 10)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    w_true = rng.standard_normal((d, 1)).astype(np.float32)
    Y = X @ w_true + 0.1 * rng.standard_normal((n, 1)).astype(np.float32)

    fd.random.seed(0)                        # PyTorch-style global seed for layer initialisation
    model = MLP(d)
    params = nn.params(model)                # {'net.0.weight': ..., ...}: PyTorch's names
    opt = fd.optim.adamw(1e-3)
    opt_state = opt.init(params)
    loader = fd.data.DataLoader(fd.data.TensorDataset(X, Y), batch_size=64, shuffle=True, key=fd.random.key(1))

    @fd.jit
    def step(params, opt_state, xb, yb):
        def loss_fn(p):
            return nn.functional.mse_loss(nn.functional_call(model, p, xb), yb)
        loss, grads = fd.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return fd.optim.apply_updates(params, updates), opt_state, loss

    first = None
    for epoch in range(epochs):
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", leave=False)
        total = 0.0
        for i, (xb, yb) in enumerate(bar):
            params, opt_state, loss = step(params, opt_state, xb, yb)
            total += float(loss)
            bar.set_postfix(loss=f"{total / (i + 1):.4f}", refresh=False)  # shown at the next redraw, with the count
        first = first if first is not None else total / len(loader)
        print(f"epoch {epoch + 1}: mean loss {total / len(loader):.4f}")

    final = float(nn.functional.mse_loss(nn.functional_call(model, params, fnp.asarray(X)), fnp.asarray(Y)))
    print(f"final loss {final:.4f} (first epoch {first:.4f})")

    # checkpoint: safetensors on disk, written atomically; load it back into the module
    path = os.path.join(tempfile.mkdtemp(), 'mlp.safetensors')
    fd.save(path, params)
    model.load_state_dict(fd.load(path))
    reloaded = float(nn.functional.mse_loss(model(fnp.asarray(X)), fnp.asarray(Y)))
    print(f"saved to {path}; reloaded model loss {reloaded:.4f}")
    assert abs(reloaded - final) < 1e-5 and final < first
    return final, first


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='small sizes, for a smoke test')
    main(parser.parse_args().quick)
