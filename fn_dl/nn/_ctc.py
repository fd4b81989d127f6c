"""ctc_loss and CTCLoss: the connectionist temporal classification loss, by the forward algorithm in log space.

The targets are extended with blanks around every label (length 2 S + 1), and fd.lax.scan runs the
recursion over time for the whole batch at once; each example's alphas stop changing after its own
input length. Impossible alignments are -inf: the log-sum-exp below keeps their gradients 0 (not NaN), so
zero_infinity can set such losses and their gradients to 0, as PyTorch does.

Gradients are the exact derivatives of the loss. With log_probs = log_softmax(logits), the gradient with
respect to the logits is PyTorch's. PyTorch's own gradient with respect to log_probs assumes they come from a
log_softmax and differs from the derivative by exp(log_probs) at every step within the input length (its
sum over classes is 0 after log_softmax's backward, which is why the logits' gradients agree).
"""
from __future__ import annotations

import numpy as np

import fn_dl.numpy as fnp
from fn_dl import lax
from fn_dl.core import dtypes
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn._loss import _Loss


def _logsumexp(*terms):
    """log(sum(exp(terms))) of same-shape arrays; -inf where all are -inf, with a zero (not NaN) gradient there."""
    m = terms[0]
    for t in terms[1:]:
        m = fnp.maximum(m, t)
    m = lax.stop_gradient(fnp.where(fnp.isfinite(m), m, 0))
    s = sum(fnp.exp(t - m) for t in terms)
    positive = s > 0
    return fnp.where(positive, fnp.log(fnp.where(positive, s, 1)) + m, -fnp.inf)


def _check_lengths(name, lengths, n, what, limit, limit_what):
    lengths = fnp.asarray(lengths)
    if not dtypes.is_integer(lengths.dtype) or tuple(lengths.shape) != (n,):
        raise ValueError(f"{name}: {what} must be {n} integers (one per example), got {lengths.dtype} "
                         f"{shape_str(lengths.shape)}")
    if F._is_concrete(lengths) and n:
        values = np.asarray(lengths)
        if values.min() < 0 or values.max() > limit:
            raise ValueError(f"{name}: expected {what} to lie in [0, {limit}] ({limit_what}), got {values.tolist()}")
    return lengths


def _padded_targets(name, targets, target_lengths, n):
    """Targets as (N, S) with S the longest, from (N, S) padded or 1-d concatenated targets."""
    if not dtypes.is_integer(targets.dtype):
        raise TypeError(f"{name}: targets must be integer class indices, got {targets.dtype}")
    if targets.ndim == 2:
        if targets.shape[0] != n:
            raise ValueError(f"{name}: padded targets must be (N, S) with N = {n}, got {shape_str(targets.shape)}")
        return targets, _check_lengths(name, target_lengths, n, 'target_lengths', targets.shape[1],
                                       'the targets\' length')
    if targets.ndim != 1:
        raise ValueError(f"{name}: targets must be (N, S) padded or 1-d concatenated, got {shape_str(targets.shape)}")
    total = targets.shape[0]
    lengths = fnp.asarray(target_lengths)
    if F._is_concrete(lengths) and lengths.ndim == 1 and int(np.sum(np.asarray(lengths))) != total:
        raise ValueError(f"{name}: 1-d targets hold {total} labels, but target_lengths sum to "
                         f"{int(np.sum(np.asarray(lengths)))}")
    lengths = _check_lengths(name, lengths, n, 'target_lengths', total, 'the concatenated targets\' length')
    # traced lengths give no longest target: the concatenation's length bounds it
    longest = int(np.max(np.asarray(lengths), initial=0)) if F._is_concrete(lengths) else total
    starts = fnp.cumsum(lengths) - lengths
    index = fnp.clip(starts[:, None] + fnp.arange(longest), 0, max(total - 1, 0))
    return (fnp.take(targets, index) if total else fnp.zeros((n, longest), targets.dtype)), lengths


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean', zero_infinity=False):
    """The negative log likelihood of the targets under all CTC alignments of log_probs (T, N, C) (or (T, C)).

    targets: (N, S) padded, or the N targets concatenated (1-d); input_lengths, target_lengths: (N,) ints.
    reduction='mean' divides each loss by its target length, then averages over the batch; zero_infinity
    turns the infinite losses of impossible alignments (and their gradients) into 0. Gradients: see the
    module's docstring (the logits' gradients, through log_softmax, are PyTorch's).

    >>> import fn_dl.numpy as fnp
    >>> import fn_dl.nn.functional as F
    >>> log_probs = F.log_softmax(fnp.zeros((4, 1, 3)), -1)       # uniform over blank and 2 labels, 4 steps
    >>> round(float(ctc_loss(log_probs, fnp.asarray([[1, 2]]), [4], [2], reduction='sum')), 4)
    1.6864
    """
    name = 'ctc_loss'
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f"{name}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs, targets = log_probs[:, None], fnp.asarray(targets)[None]
        input_lengths = fnp.reshape(fnp.asarray(input_lengths), (1,))
        target_lengths = fnp.reshape(fnp.asarray(target_lengths), (1,))
    if log_probs.ndim != 3 or not dtypes.is_floating(log_probs.dtype):
        raise ValueError(f"{name}: log_probs must be floating (T, N, C) or (T, C), got {log_probs.dtype} "
                         f"{shape_str(log_probs.shape)}")
    steps, n, n_classes = log_probs.shape
    if not 0 <= blank < n_classes:
        raise ValueError(f"{name}: blank must be in label range [0, {n_classes}), got {blank}")
    input_lengths = _check_lengths(name, input_lengths, n, 'input_lengths', steps, 'the number of time steps')
    targets, target_lengths = _padded_targets(name, fnp.asarray(targets), target_lengths, n)
    longest = targets.shape[1]
    labels = fnp.where(fnp.arange(longest) < target_lengths[:, None], targets, blank)
    # the extended targets: blank, l1, blank, l2, ..., blank (2 S + 1 states)
    ext = fnp.concatenate([fnp.stack([fnp.full_like(labels, blank), labels], -1).reshape(n, 2 * longest),
                           fnp.full((n, 1), blank, dtype=labels.dtype)], axis=1)
    states = 2 * longest + 1
    emit = fnp.take_along_axis(log_probs, fnp.broadcast_to(ext[None], (steps, n, states)), axis=2)  # (T, N, 2S+1)
    # a label may be reached from two states back (skipping a blank) unless it repeats the label before it
    skip = np.arange(states) >= 2
    skip = fnp.asarray(skip) & (ext != blank) & (ext != fnp.pad(ext, ((0, 0), (2, 0)))[:, :-2])
    neg_inf = fnp.full((n, 2), -fnp.inf, dtype=log_probs.dtype)

    def step(alpha, inputs):
        e, t = inputs
        one_back = fnp.concatenate([neg_inf[:, :1], alpha[:, :-1]], axis=1)
        two_back = fnp.where(skip, fnp.concatenate([neg_inf, alpha[:, :-2]], axis=1), -fnp.inf)
        new = _logsumexp(alpha, one_back, two_back) + e
        return fnp.where((t < input_lengths)[:, None], new, alpha), None

    alpha = fnp.where(fnp.arange(states) < 2, emit[0], -fnp.inf)
    if steps > 1:
        alpha, _ = lax.scan(step, alpha, (emit[1:], fnp.arange(1, steps)))
    end = 2 * target_lengths
    last = fnp.take_along_axis(alpha, end[:, None], axis=1)[:, 0]
    before = fnp.take_along_axis(alpha, fnp.maximum(end - 1, 0)[:, None], axis=1)[:, 0]
    loss = -_logsumexp(last, fnp.where(target_lengths > 0, before, -fnp.inf))
    if zero_infinity:
        loss = fnp.where(fnp.isinf(loss), 0, loss)
    if reduction == 'mean':
        return fnp.mean(loss / fnp.maximum(target_lengths, 1).astype(loss.dtype))
    if reduction == 'sum':
        return fnp.sum(loss)
    return loss[0] if unbatched else loss


class CTCLoss(_Loss):
    """F.ctc_loss: forward(log_probs, targets, input_lengths, target_lengths).

    >>> import fn_dl.numpy as fnp
    >>> import fn_dl.nn.functional as F
    >>> from fn_dl import nn
    >>> log_probs = F.log_softmax(fnp.zeros((6, 2, 4)), -1)
    >>> nn.CTCLoss()(log_probs, fnp.asarray([[1, 2], [3, 3]]), [6, 6], [2, 2]).shape
    ()
    """

    def __init__(self, blank=0, reduction='mean', zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)
