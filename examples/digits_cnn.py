"""A small conv net on scikit-learn's handwritten digits (8x8 images, shipped with sklearn: no download).

Trains with a jitted pure step (AdamW), reports test accuracy and saves a PNG of the training curves.
Run: pip install -e '.[examples]' && python examples/digits_cnn.py   (add --quick for a smoke run)
"""
import argparse
import os

import numpy as np

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import nn


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 8x8 -> 4x4
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features(x))


def main(quick=False, out_dir='examples/out'):
    from sklearn.datasets import load_digits
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None]        # (n, 1, 8, 8), NCHW as in PyTorch
    y = digits.target.astype(np.int32)
    perm = np.random.default_rng(0).permutation(len(X))
    X, y = X[perm], y[perm]
    n_train = int(0.8 * len(X))
    if quick:
        X, y, n_train = X[:600], y[:600], 480
    Xtr, ytr, Xte, yte = X[:n_train], y[:n_train], X[n_train:], y[n_train:]

    fd.random.seed(0)
    model = DigitsCNN()
    params = nn.params(model)
    opt = fd.optim.adamw(3e-3, weight_decay=1e-4)
    opt_state = opt.init(params)
    loader = fd.data.DataLoader(fd.data.TensorDataset(Xtr, ytr), batch_size=64, shuffle=True, key=fd.random.key(0))

    @fd.jit
    def step(params, opt_state, xb, yb):
        def loss_fn(p):
            return nn.functional.cross_entropy(nn.functional_call(model, p, xb), yb)
        loss, grads = fd.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return fd.optim.apply_updates(params, updates), opt_state, loss

    @fd.jit
    def accuracy(params, xb, yb):
        return fnp.mean(fnp.argmax(nn.functional_call(model, params, xb), axis=1) == yb)

    epochs = 3 if quick else 15
    history = {'loss': [], 'test_acc': []}
    for epoch in range(epochs):
        losses = []
        for xb, yb in loader:
            params, opt_state, loss = step(params, opt_state, xb, yb)
            losses.append(float(loss))
        acc = float(accuracy(params, fnp.asarray(Xte), fnp.asarray(yte)))
        history['loss'].append(float(np.mean(losses)))
        history['test_acc'].append(acc)
        print(f"epoch {epoch + 1}: loss {history['loss'][-1]:.4f}  test accuracy {acc:.4f}")

    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, 'digits_cnn.png')
    _plot(history, png)
    print(f"test accuracy {history['test_acc'][-1]:.4f}; curves saved to {png}")
    return history


def _plot(history, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax1 = plt.subplots(figsize=(6, 4))
    ax1.plot(history['loss'], 'o-', label='train loss')
    ax1.set_xlabel('epoch')
    ax1.set_ylabel('train loss')
    ax2 = ax1.twinx()
    ax2.plot(history['test_acc'], 's-', color='tab:orange', label='test accuracy')
    ax2.set_ylabel('test accuracy')
    fig.suptitle('fn_dl: a small CNN on sklearn digits')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='small sizes, for a smoke test')
    parser.add_argument('--out', default='examples/out', help='where to save the PNG')
    args = parser.parse_args()
    main(args.quick, args.out)
