"""The optimisers: each a chain of building blocks ending in the learning rate.

Defaults follow torch.optim where torch has the optimiser (optax's for Lion, LAMB and
Adafactor), so `fd.optim.X(lr)` and `torch.optim.X(params, lr)` take the same steps. torch's
coupled `weight_decay` (L2 added to the gradient) is `chain(add_decayed_weights(wd), X(lr))`;
AdamW, Lion and LAMB take decoupled weight decay, with an optional mask.

>>> import fn_dl as fd, fn_dl.numpy as fnp
>>> opt = fd.optim.adamw(0.1)
>>> params = {'w': fnp.asarray([1.0, -1.0])}
>>> state = opt.init(params)
>>> grads = fd.grad(lambda p: fnp.sum(p['w'] ** 2))(params)
>>> updates, state = opt.update(grads, state, params)
>>> [round(x, 4) for x in fd.optim.apply_updates(params, updates)['w'].tolist()]
[0.899, -0.899]
"""
from __future__ import annotations

import numbers

from fn_dl.optim._base import chain
from fn_dl.optim._clipping import clip_by_block_rms
from fn_dl.optim._transforms import (_is_zero, add_decayed_weights, ema, scale, scale_by_adadelta, scale_by_adam,
                                     scale_by_adamax, scale_by_amsgrad, scale_by_factored_rms, scale_by_learning_rate,
                                     scale_by_lion, scale_by_nadam, scale_by_param_block_rms, scale_by_radam,
                                     scale_by_rms, scale_by_rss, scale_by_trust_ratio, trace)


def _chain(*transforms):
    """chain() of the transformations that are switched on (None marks one that is off)."""
    return chain(*(t for t in transforms if t is not None))


def sgd(learning_rate, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """Stochastic gradient descent with optional momentum, as torch.optim.SGD.

    >>> import fn_dl.numpy as fnp
    >>> opt = sgd(0.1, momentum=0.9, nesterov=True)
    >>> u, _ = opt.update(fnp.asarray([1.0]), opt.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]  # -lr * (g + momentum * g)
    [-0.19]
    """
    if nesterov and isinstance(momentum, numbers.Real) and isinstance(dampening, numbers.Real) \
            and (momentum <= 0 or dampening != 0):
        raise ValueError(f"sgd: nesterov momentum needs momentum > 0 and dampening = 0 (as torch.optim.SGD); "
                         f"got momentum={momentum}, dampening={dampening}")
    return _chain(None if _is_zero(weight_decay) else add_decayed_weights(weight_decay),
                  None if _is_zero(momentum) else trace(momentum, nesterov, dampening),
                  scale_by_learning_rate(learning_rate))


def momentum(learning_rate, momentum=0.9, nesterov=False):
    """SGD with (heavy-ball or Nesterov) momentum: sgd(learning_rate, momentum, nesterov=nesterov).

    >>> import fn_dl.numpy as fnp
    >>> opt = momentum(0.1, 0.9)
    >>> u, _ = opt.update(fnp.asarray([1.0]), opt.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [-0.1]
    """
    return sgd(learning_rate, momentum=momentum, nesterov=nesterov)


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma and Ba, 2014), as torch.optim.Adam.

    >>> import fn_dl.numpy as fnp
    >>> opt = adam(0.1)
    >>> u, _ = opt.update(fnp.asarray([5.0]), opt.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [-0.1]
    """
    return chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(learning_rate))


def adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-2, mask=None):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as torch.optim.AdamW.

    mask (a tree of bools like the parameters, or a function of them returning one) limits the
    decay to the leaves marked True, e.g. `lambda p: fd.tree.map(lambda x: x.ndim > 1, p)`
    exempts biases and norm scales.

    >>> import fn_dl.numpy as fnp
    >>> opt = adamw(0.1, weight_decay=0.5)
    >>> u, _ = opt.update(fnp.asarray([5.0]), opt.init(fnp.ones(1)), fnp.ones(1))
    >>> [round(x, 6) for x in u.tolist()]  # -lr * (1 + weight_decay * param)
    [-0.15]
    """
    return chain(scale_by_adam(b1, b2, eps), add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))


def amsgrad(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """AMSGrad (Reddi et al., 2018), as torch.optim.Adam(amsgrad=True).

    >>> import fn_dl.numpy as fnp
    >>> opt = amsgrad(0.1)
    >>> u, _ = opt.update(fnp.asarray([5.0]), opt.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [-0.1]
    """
    return chain(scale_by_amsgrad(b1, b2, eps), scale_by_learning_rate(learning_rate))


def adamax(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """Adamax, Adam's infinity-norm variant (Kingma and Ba, 2014), as torch.optim.Adamax.

    >>> import fn_dl.numpy as fnp
    >>> opt = adamax(0.1)
    >>> u, _ = opt.update(fnp.asarray([5.0]), opt.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [-0.1]
    """
    return chain(scale_by_adamax(b1, b2, eps), scale_by_learning_rate(learning_rate))


def nadam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, momentum_decay=4e-3):
    """NAdam, Adam with Nesterov momentum (Dozat, 2016), as torch.optim.NAdam.

    >>> import fn_dl.numpy as fnp
    >>> opt = nadam(0.1)
    >>> u, _ = opt.update(fnp.asarray([5.0]), opt.init(fnp.zeros(1)))
    >>> round(u.tolist()[0], 4)  # the first step looks ahead: a little over lr
    -0.1056
    """
    return chain(scale_by_nadam(b1, b2, eps, momentum_decay), scale_by_learning_rate(learning_rate))


def radam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """Rectified Adam (Liu et al., 2020), as torch.optim.RAdam.

    >>> import fn_dl.numpy as fnp
    >>> opt = radam(0.1)
    >>> u, _ = opt.update(fnp.asarray([5.0]), opt.init(fnp.zeros(1)))
    >>> [round(x, 4) for x in u.tolist()]  # early steps: momentum SGD
    [-0.5]
    """
    return chain(scale_by_radam(b1, b2, eps), scale_by_learning_rate(learning_rate))


def rmsprop(learning_rate, decay=0.99, eps=1e-8, centered=False, momentum=0.0):
    """RMSprop (Hinton, 2012), optionally centered and with momentum, as torch.optim.RMSprop.

    decay is torch's `alpha`.

    >>> import fn_dl.numpy as fnp
    >>> opt = rmsprop(0.01, decay=0.75)
    >>> u, _ = opt.update(fnp.asarray([1.0]), opt.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [-0.02]
    """
    return _chain(scale_by_rms(decay, eps, centered),
                  None if _is_zero(momentum) else trace(momentum),
                  scale_by_learning_rate(learning_rate))


def adagrad(learning_rate, initial_accumulator_value=0.0, eps=1e-10):
    """Adagrad (Duchi et al., 2011), as torch.optim.Adagrad.

    torch's lr_decay is the schedule `lambda t: lr / (1 + t * lr_decay)`.

    >>> import fn_dl.numpy as fnp
    >>> opt = adagrad(0.1)
    >>> u, _ = opt.update(fnp.asarray([5.0]), opt.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [-0.1]
    """
    return chain(scale_by_rss(initial_accumulator_value, eps), scale_by_learning_rate(learning_rate))


def adadelta(learning_rate, rho=0.9, eps=1e-6):
    """Adadelta (Zeiler, 2012), as torch.optim.Adadelta (whose default learning rate is 1.0).

    >>> import fn_dl.numpy as fnp
    >>> opt = adadelta(1.0)
    >>> u, _ = opt.update(fnp.asarray([1.0]), opt.init(fnp.zeros(1)))
    >>> round(u.tolist()[0], 6)
    -0.003162
    """
    return chain(scale_by_adadelta(rho, eps), scale_by_learning_rate(learning_rate))


def lion(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3, mask=None):
    """Lion (Chen et al., 2023): signed momentum updates with decoupled weight decay.

    Use a learning rate 3-10x smaller than AdamW's and a weight decay 3-10x larger.

    >>> import fn_dl.numpy as fnp
    >>> opt = lion(0.1, weight_decay=0.0)
    >>> u, _ = opt.update(fnp.asarray([5.0, -0.1]), opt.init(fnp.zeros(2)), fnp.zeros(2))
    >>> [round(x, 6) for x in u.tolist()]
    [-0.1, 0.1]
    """
    return chain(scale_by_lion(b1, b2), add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))


def lamb(learning_rate, b1=0.9, b2=0.999, eps=1e-6, weight_decay=0.0, mask=None):
    """LAMB (You et al., 2020): Adam with weight decay, rescaled per leaf by a trust ratio.

    >>> import fn_dl.numpy as fnp
    >>> opt = lamb(0.1)
    >>> u, _ = opt.update(fnp.asarray([5.0, 5.0]), opt.init(fnp.ones(2)), fnp.asarray([3.0, 4.0]))
    >>> [round(x, 4) for x in u.tolist()]  # each leaf's step is lr * ||param||
    [-0.3536, -0.3536]
    """
    return chain(scale_by_adam(b1, b2, eps), add_decayed_weights(weight_decay, mask), scale_by_trust_ratio(),
                 scale_by_learning_rate(learning_rate))


def adafactor(learning_rate, min_dim_size_to_factor=128, decay_rate=0.8, decay_offset=0,
              multiply_by_parameter_scale=True, clipping_threshold=1.0, momentum=None, weight_decay_rate=None,
              eps=1e-30, factored=True, weight_decay_mask=None):
    """Adafactor (Shazeer and Stern, 2018), as optax.adafactor: factored second moments, sublinear memory.

    With multiply_by_parameter_scale the step is relative to each parameter's root mean square,
    so learning rates are of order 1e-2, not Adam's 1e-4.

    >>> import fn_dl.numpy as fnp
    >>> opt = adafactor(0.01)
    >>> params = fnp.ones((256, 128))
    >>> state = opt.init(params)
    >>> [v.shape for v in state[0].v]  # 128 + 256 statistics instead of 256 x 128 second moments
    [(128,), (256,)]
    """
    return _chain(scale_by_factored_rms(factored, decay_rate, decay_offset, min_dim_size_to_factor, eps),
                  None if clipping_threshold is None else clip_by_block_rms(clipping_threshold),
                  scale_by_learning_rate(learning_rate, flip_sign=False),
                  scale_by_param_block_rms() if multiply_by_parameter_scale else None,
                  None if momentum is None else ema(momentum, debias=False),
                  None if weight_decay_rate is None else add_decayed_weights(weight_decay_rate, weight_decay_mask),
                  scale(-1))
