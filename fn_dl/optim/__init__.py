"""fd.optim: optax-style gradient transformations, optimisers and schedules.

A `GradientTransformation` is a pair of pure functions, `init(params) -> state` and
`update(grads, state, params=None) -> (updates, state)`; the state is a pytree of arrays, so a
training step that uses one can be jitted, vmapped, differentiated and saved. Optimisers are
chains of small `scale_by_*` blocks; where torch.optim has the optimiser, they take its steps.

>>> import fn_dl as fd, fn_dl.numpy as fnp
>>> opt = fd.optim.chain(fd.optim.clip_by_global_norm(1.0),
...                      fd.optim.adamw(fd.optim.cosine_decay_schedule(1e-2, decay_steps=100)))
>>> params = {'w': fnp.ones(3)}
>>> state = opt.init(params)
>>> grads = fd.grad(lambda p: fnp.sum(p['w'] ** 2))(params)
>>> updates, state = opt.update(grads, state, params)
>>> params = fd.optim.apply_updates(params, updates)
>>> [round(x, 4) for x in params['w'].tolist()]
[0.9899, 0.9899, 0.9899]
"""
from fn_dl.optim._alias import (adadelta, adafactor, adagrad, adam, adamax, adamw, amsgrad, lamb, lion,  # noqa: F401
                                momentum, nadam, radam, rmsprop, sgd)
from fn_dl.optim._base import (EmptyState, GradientTransformation, Schedule, apply_updates, chain,  # noqa: F401
                               identity, stateless)
from fn_dl.optim._clipping import ZeroNansState, clip, clip_by_block_rms, clip_by_global_norm, zero_nans  # noqa: F401
from fn_dl.optim._schedules import (constant_schedule, cosine_decay_schedule, exponential_decay,  # noqa: F401
                                    join_schedules, linear_schedule, one_cycle_schedule, piecewise_constant_schedule,
                                    polynomial_schedule, warmup_cosine_decay_schedule)
from fn_dl.optim._transforms import (EmaState, FactoredRmsState, ScaleByAdadeltaState, ScaleByAdamState,  # noqa: F401
                                     ScaleByAmsgradState, ScaleByLionState, ScaleByNadamState, ScaleByRmsState,
                                     ScaleByRssState, ScaleByScheduleState, TraceState, add_decayed_weights, ema,
                                     scale, scale_by_adadelta, scale_by_adam, scale_by_adamax, scale_by_amsgrad,
                                     scale_by_factored_rms, scale_by_learning_rate, scale_by_lion, scale_by_nadam,
                                     scale_by_param_block_rms, scale_by_radam, scale_by_rms, scale_by_rss,
                                     scale_by_schedule, scale_by_trust_ratio, trace)
from fn_dl.optim._wrappers import (ApplyIfFiniteState, InjectHyperparamsState, MaskedState,  # noqa: F401
                                   MultiSteps, MultiStepsState, MultiTransformState, apply_if_finite,
                                   inject_hyperparams, masked, multi_transform)
