"""The seed TextClassifier: Embedding + TransformerEncoder + mean pool + Linear, written as in PyTorch and
trained with a pure, jitted step (nn.functional_call, fd.value_and_grad, fd.optim.adamw).

The synthetic task: each sequence is random filler tokens with exactly one of 5 marker tokens somewhere in
it; the class is which marker. Chance is 20%; the model must find the marker wherever it is.

Run: python examples/text_classifier.py            (vocab 10000, d 256, 4 heads, 2 layers, seq 64, batch 32)
     python examples/text_classifier.py --quick    (small sizes, a few seconds; asserts that the loss fell)
"""
import argparse
import time

import numpy as np

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import nn
from fn_dl.data import DataLoader, TensorDataset
from fn_dl.nn import functional as F

N_CLASSES = 5
MARKERS = np.arange(1, N_CLASSES + 1)  # token c + 1 marks class c; fillers are drawn from above them


class TextClassifier(nn.Module):
    def __init__(self, vocab, d, heads, layers, classes, dim_feedforward=None, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward or 4 * d, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(d, classes)

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens))  # (N, L, d)
        return self.head(h.mean(axis=1))


def make_data(key, n, seq_len, vocab):
    """n sequences of filler tokens with one marker token at a random position; labels = the marker's class."""
    k_fill, k_pos, k_cls = fd.random.split(key, 3)
    tokens = np.array(fd.random.randint(k_fill, (n, seq_len), N_CLASSES + 1, vocab))
    labels = np.asarray(fd.random.randint(k_cls, (n,), 0, N_CLASSES))
    positions = np.asarray(fd.random.randint(k_pos, (n,), 0, seq_len))
    tokens[np.arange(n), positions] = MARKERS[labels]
    return fnp.asarray(tokens), fnp.asarray(labels)


def main(quick=False):
    if quick:
        vocab, d, heads, layers, seq_len, batch = 100, 32, 4, 2, 16, 32
        n_train, n_test, epochs, lr = 1024, 256, 4, 3e-3
    else:
        vocab, d, heads, layers, seq_len, batch = 10000, 256, 4, 2, 64, 32
        n_train, n_test, epochs, lr = 2048, 512, 3, 3e-4

    fd.random.seed(0)
    model = TextClassifier(vocab, d, heads, layers, N_CLASSES)
    params = nn.params(model)
    print(f"TextClassifier: {sum(p.size for p in params.values()):,} parameters "
          f"(vocab {vocab}, d {d}, {heads} heads, {layers} layers, seq {seq_len}, batch {batch})")
    k_train, k_test = fd.random.split(fd.random.key(1))
    train = TensorDataset(*make_data(k_train, n_train, seq_len, vocab))
    x_test, y_test = make_data(k_test, n_test, seq_len, vocab)
    # drop_last: every batch has the same shape, so the step compiles once
    loader = DataLoader(train, batch_size=batch, shuffle=True, seed=0, drop_last=True)

    opt = fd.optim.adamw(lr)
    opt_state = opt.init(params)

    @fd.jit
    def step(params, opt_state, xb, yb):
        def loss_fn(p):
            return F.cross_entropy(nn.functional_call(model, p, xb), yb)
        loss, grads = fd.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return fd.optim.apply_updates(params, updates), opt_state, loss

    @fd.jit
    def predict(params, xb):
        return fnp.argmax(nn.functional_call(model, params, xb), axis=-1)

    epoch_losses = []
    for epoch in range(epochs):
        start, losses = time.perf_counter(), []
        for xb, yb in loader:
            params, opt_state, loss = step(params, opt_state, xb, yb)
            losses.append(loss)
        epoch_losses.append(float(np.mean([float(v) for v in losses])))
        print(f"epoch {epoch + 1}/{epochs}  loss {epoch_losses[-1]:.4f}  ({time.perf_counter() - start:.1f} s)")

    correct = sum(int(fnp.sum(predict(params, x_test[i:i + batch]) == y_test[i:i + batch]))
                  for i in range(0, n_test, batch))
    accuracy = correct / n_test
    print(f"test accuracy {accuracy:.3f} (chance {1 / N_CLASSES:.2f})")
    assert epoch_losses[-1] < 0.5 * epoch_losses[0], f"the loss did not fall: {epoch_losses}"
    if not quick:
        assert accuracy > 0.95, f"accuracy {accuracy:.3f} is too low"
    return {'first_loss': epoch_losses[0], 'final_loss': epoch_losses[-1], 'accuracy': accuracy}


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='small sizes: runs in seconds')
    main(parser.parse_args().quick)
