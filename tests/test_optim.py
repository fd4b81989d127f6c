"""fd.optim: parity with torch.optim and optax, jit/vmap/grad over optimisers, wrappers, state, errors.

Parity runs train a small tanh MLP for 50 steps. The gradients come from a NumPy backward pass
at the reference framework's current parameters and are fed, identical, to both sides. In
float64 the parameters must agree elementwise within 1e-5 relative; in float32, where the two
sides round differently, within 1e-5 of each tensor's largest entry.
"""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp

O = fd.optim
STEPS = 50
_rng = np.random.default_rng(0)
INIT = {'w1': _rng.standard_normal((8, 16)) * 0.5, 'b1': _rng.standard_normal(16) * 0.1,
        'w2': _rng.standard_normal((16, 4)) * 0.5, 'b2': np.zeros(4)}
X, Y = _rng.standard_normal((32, 8)), _rng.standard_normal((32, 4))


def mlp_grads(p):
    """Gradients of mean((tanh(X w1 + b1) w2 + b2 - Y)**2), by hand, in p's dtype."""
    p = {k: np.asarray(v) for k, v in p.items()}
    dt = p['w1'].dtype
    x, y = X.astype(dt), Y.astype(dt)
    h = np.tanh(x @ p['w1'] + p['b1'])
    d = 2 * (h @ p['w2'] + p['b2'] - y) / y.size
    dz = (d @ p['w2'].T) * (1 - h * h)
    return {'w1': x.T @ dz, 'b1': dz.sum(0), 'w2': h.T @ d, 'b2': d.sum(0)}


def mlp_loss(p, x, y):
    return fnp.mean((fnp.tanh(x @ p['w1'] + p['b1']) @ p['w2'] + p['b2'] - y) ** 2)


def init_params(dtype=np.float64):
    return {k: fnp.asarray(v.astype(dtype)) for k, v in INIT.items()}


def fd_train(opt, grads_seq, params=None, jit=False):
    """Run opt over the given gradients; returns the final parameters as NumPy arrays."""
    params = init_params(grads_seq[0]['w1'].dtype) if params is None else params

    def step(p, s, g):
        u, s = opt.update(g, s, p)
        return O.apply_updates(p, u), s
    step = fd.jit(step) if jit else step
    state = opt.init(params)
    for g in grads_seq:
        params, state = step(params, state, {k: fnp.asarray(v) for k, v in g.items()})
    return {k: np.asarray(v) for k, v in params.items()}


def assert_params_close(out, ref, dtype):
    for k in ref:
        if dtype == np.float64:
            np.testing.assert_allclose(out[k], ref[k], rtol=1e-5, atol=0, err_msg=k)
        else:
            np.testing.assert_allclose(out[k], ref[k], rtol=1e-5, atol=1e-5 * np.max(np.abs(ref[k])), err_msg=k)


# --- torch.optim parity -------------------------------------------------------------------------


def torch_train(make_opt, dtype, make_sched=None, on_step=None):
    """Train with torch.optim; returns (final parameters, the gradients fed at each step)."""
    torch = pytest.importorskip('torch')
    params = {k: torch.tensor(v.astype(dtype)) for k, v in INIT.items()}
    opt = make_opt(params)
    sched = make_sched(opt) if make_sched else None
    grads_seq = []
    for i in range(STEPS):
        g = mlp_grads({k: v.numpy() for k, v in params.items()})
        for k, v in params.items():
            v.grad = torch.tensor(g[k])
        grads_seq.append(g)
        if on_step:
            on_step(i, opt)
        opt.step()
        if sched:
            sched.step()
    return {k: v.numpy() for k, v in params.items()}, grads_seq


def _all(cls, **kw):
    return lambda params: cls(list(params.values()), **kw)


def _torch_cases():
    import torch
    T = torch.optim
    return {
        'sgd': (O.sgd(0.1), _all(T.SGD, lr=0.1)),
        'sgd_momentum': (O.sgd(0.1, momentum=0.9), _all(T.SGD, lr=0.1, momentum=0.9)),
        'sgd_nesterov': (O.sgd(0.1, momentum=0.9, nesterov=True), _all(T.SGD, lr=0.1, momentum=0.9, nesterov=True)),
        'sgd_dampening_wd': (O.sgd(0.1, momentum=0.9, dampening=0.3, weight_decay=1e-2),
                             _all(T.SGD, lr=0.1, momentum=0.9, dampening=0.3, weight_decay=1e-2)),
        'adam': (O.adam(1e-2), _all(T.Adam, lr=1e-2)),
        'adam_l2': (O.chain(O.add_decayed_weights(0.05), O.adam(1e-2, b1=0.8, b2=0.99, eps=1e-6)),
                    _all(T.Adam, lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
        'adamw': (O.adamw(1e-2), _all(T.AdamW, lr=1e-2)),
        'amsgrad': (O.amsgrad(1e-2), _all(T.Adam, lr=1e-2, amsgrad=True)),
        'adamax': (O.adamax(1e-2), _all(T.Adamax, lr=1e-2)),
        'nadam': (O.nadam(1e-2), _all(T.NAdam, lr=1e-2)),
        'radam': (O.radam(1e-2), _all(T.RAdam, lr=1e-2)),
        'rmsprop': (O.rmsprop(1e-2), _all(T.RMSprop, lr=1e-2)),
        'rmsprop_centered': (O.rmsprop(1e-2, centered=True), _all(T.RMSprop, lr=1e-2, centered=True)),
        'rmsprop_momentum': (O.rmsprop(1e-2, momentum=0.9), _all(T.RMSprop, lr=1e-2, momentum=0.9)),
        'rmsprop_centered_momentum': (O.rmsprop(1e-3, decay=0.9, centered=True, momentum=0.5),
                                      _all(T.RMSprop, lr=1e-3, alpha=0.9, centered=True, momentum=0.5)),
        'adagrad': (O.adagrad(0.1), _all(T.Adagrad, lr=0.1)),
        # torch's lr_decay as a schedule, in float64 like torch (the count is an int32 array)
        'adagrad_initial_lr_decay': (O.adagrad(lambda t: 0.1 / (1 + fnp.astype(t, fnp.float64) * 0.05),
                                               initial_accumulator_value=0.1),
                                     _all(T.Adagrad, lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1)),
        'adadelta': (O.adadelta(1.0), _all(T.Adadelta, lr=1.0)),
    }


TORCH_CASES = ['sgd', 'sgd_momentum', 'sgd_nesterov', 'sgd_dampening_wd', 'adam', 'adam_l2', 'adamw', 'amsgrad',
               'adamax', 'nadam', 'radam', 'rmsprop', 'rmsprop_centered', 'rmsprop_momentum',
               'rmsprop_centered_momentum', 'adagrad', 'adagrad_initial_lr_decay', 'adadelta']


@pytest.mark.parametrize('dtype', [np.float64, np.float32], ids=['f64', 'f32'])
@pytest.mark.parametrize('name', TORCH_CASES)
def test_matches_torch_optim(name, dtype):
    pytest.importorskip('torch')
    opt, make_torch = _torch_cases()[name]
    ref, grads_seq = torch_train(make_torch, dtype)
    assert_params_close(fd_train(opt, grads_seq), ref, dtype)


@pytest.mark.parametrize('name', ['sgd_nesterov', 'adamw', 'nadam', 'radam', 'rmsprop_centered_momentum'])
def test_jitted_matches_torch_optim(name):
    pytest.importorskip('torch')
    opt, make_torch = _torch_cases()[name]
    ref, grads_seq = torch_train(make_torch, np.float64)
    assert_params_close(fd_train(opt, grads_seq, jit=True), ref, np.float64)


def test_schedules_match_torch_schedulers_in_training():
    torch = pytest.importorskip('torch')
    L = torch.optim.lr_scheduler
    ref, grads_seq = torch_train(_all(torch.optim.SGD, lr=0.1, momentum=0.9), np.float64,
                                 make_sched=lambda opt: L.StepLR(opt, step_size=10, gamma=0.5))
    opt = O.sgd(O.exponential_decay(0.1, 10, 0.5, staircase=True), momentum=0.9)
    assert_params_close(fd_train(opt, grads_seq, jit=True), ref, np.float64)
    ref, grads_seq = torch_train(_all(torch.optim.AdamW, lr=1e-2), np.float64,
                                 make_sched=lambda opt: L.OneCycleLR(opt, max_lr=1e-2, total_steps=STEPS,
                                                                             cycle_momentum=False))
    assert_params_close(fd_train(O.adamw(O.one_cycle_schedule(STEPS, 1e-2)), grads_seq), ref, np.float64)


def test_adamw_mask_matches_torch_param_groups():
    torch = pytest.importorskip('torch')

    def groups(p):  # torch's usual recipe: no weight decay on biases
        return torch.optim.AdamW([{'params': [p['w1'], p['w2']]},
                                  {'params': [p['b1'], p['b2']], 'weight_decay': 0.0}], lr=1e-2, weight_decay=0.1)
    ref, grads_seq = torch_train(groups, np.float64)
    opt = O.adamw(1e-2, weight_decay=0.1, mask=lambda p: fd.tree.map(lambda x: x.ndim > 1, p))
    assert_params_close(fd_train(opt, grads_seq), ref, np.float64)
    opt = O.adamw(1e-2, weight_decay=0.1, mask={'w1': True, 'w2': True, 'b1': False, 'b2': False})
    assert_params_close(fd_train(opt, grads_seq), ref, np.float64)


def test_multi_transform_matches_torch_param_groups():
    torch = pytest.importorskip('torch')

    def groups(p):
        return torch.optim.SGD([{'params': [p['w1'], p['w2']], 'lr': 0.1, 'momentum': 0.9},
                                {'params': [p['b1'], p['b2']], 'lr': 0.01}], lr=1.0)
    ref, grads_seq = torch_train(groups, np.float64)
    opt = O.multi_transform({'weights': O.sgd(0.1, momentum=0.9), 'biases': O.sgd(0.01)},
                            lambda p: {k: 'weights' if k[0] == 'w' else 'biases' for k in p})
    assert_params_close(fd_train(opt, grads_seq), ref, np.float64)
    assert_params_close(fd_train(opt, grads_seq, jit=True), ref, np.float64)


def test_inject_hyperparams_changes_learning_rate_like_torch_param_groups():
    torch = pytest.importorskip('torch')

    def halve_at_20(i, opt):
        if i == 20:
            opt.param_groups[0]['lr'] = 5e-3
    ref, grads_seq = torch_train(_all(torch.optim.Adam, lr=1e-2), np.float64, on_step=halve_at_20)
    opt = O.inject_hyperparams(O.adam)(learning_rate=1e-2)

    @fd.jit
    def step(p, s, g):
        u, s = opt.update(g, s, p)
        return O.apply_updates(p, u), s
    params = init_params()
    state = opt.init(params)
    for i, g in enumerate(grads_seq):
        if i == 20:
            state.hyperparams['learning_rate'] = fnp.asarray(5e-3, dtype=fnp.float64)
        params, state = step(params, state, {k: fnp.asarray(v) for k, v in g.items()})
    assert step._cache_size() == 1  # the new rate is an argument: no retrace
    assert_params_close({k: np.asarray(v) for k, v in params.items()}, ref, np.float64)


def test_clip_by_global_norm_matches_torch():
    torch = pytest.importorskip('torch')
    g = {k: np.asarray(v) for k, v in mlp_grads(INIT).items()}
    for max_norm in (0.01, 1e3):
        ts = [torch.tensor(v) for v in g.values()]
        for t in ts:
            t.grad = t.clone()
        torch.nn.utils.clip_grad_norm_(ts, max_norm)
        tx = O.clip_by_global_norm(max_norm)
        out, _ = tx.update({k: fnp.asarray(v) for k, v in g.items()}, tx.init(None))
        for k, t in zip(g, ts):
            np.testing.assert_allclose(np.asarray(out[k]), t.grad.numpy(), rtol=1e-5)  # torch adds 1e-6 to the norm


# --- the published formulas (float64 NumPy) and optax -----------------------------------------


def numpy_lion(grads_seq, lr, b1=0.9, b2=0.99, wd=1e-3):
    p = {k: v.copy() for k, v in INIT.items()}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    for g in grads_seq:
        for k in p:
            p[k] = p[k] - lr * (np.sign((1 - b1) * g[k] + b1 * m[k]) + wd * p[k])
            m[k] = b2 * m[k] + (1 - b2) * g[k]
    return p


def numpy_lamb(grads_seq, lr, b1=0.9, b2=0.999, eps=1e-6, wd=0.01):
    p = {k: v.copy() for k, v in INIT.items()}
    m, v = ({k: np.zeros_like(x) for k, x in p.items()} for _ in range(2))
    for t, g in enumerate(grads_seq, 1):
        for k in p:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            r = (m[k] / (1 - b1 ** t)) / (np.sqrt(v[k] / (1 - b2 ** t)) + eps) + wd * p[k]
            pn, rn = np.linalg.norm(p[k]), np.linalg.norm(r)
            p[k] = p[k] - lr * (pn / rn if pn > 0 and rn > 0 else 1.0) * r
    return p


def numpy_adafactor(grads_seq, lr, min_dim=4, decay_rate=0.8, eps=1e-30, clip=1.0):
    """Adafactor without momentum (Shazeer and Stern, 2018, algorithms 4 and 5), as optax orders it."""
    p = {k: v.copy() for k, v in INIT.items()}
    rms = lambda x: np.sqrt(np.mean(x ** 2))  # noqa: E731
    state = {k: (np.zeros(v.shape[0]), np.zeros(v.shape[1])) if v.ndim == 2 and min(v.shape) >= min_dim
             else np.zeros_like(v) for k, v in p.items()}
    for t, g in enumerate(grads_seq, 1):
        beta = 1 - t ** -decay_rate
        for k in p:
            g2 = g[k] ** 2 + eps
            if isinstance(state[k], tuple):  # V ~ R C^T / sum(R) from the row and column means R, C
                r, c = (beta * s + (1 - beta) * g2.mean(axis) for s, axis in zip(state[k], (1, 0)))
                state[k] = (r, c)
                u = g[k] / np.sqrt(np.outer(r, c) / r.mean())
            else:
                state[k] = beta * state[k] + (1 - beta) * g2
                u = g[k] / np.sqrt(state[k])
            u = u / max(1.0, rms(u) / clip)
            p[k] = p[k] - lr * max(rms(p[k]), 1e-3) * u
    return p


def test_lion_lamb_adafactor_match_published_formulas():
    grads_seq, p = [], {k: v.copy() for k, v in INIT.items()}
    for _ in range(STEPS):  # a fixed gradient sequence: the trajectory of plain SGD
        grads_seq.append(mlp_grads(p))
        p = {k: v - 0.1 * grads_seq[-1][k] for k, v in p.items()}
    cases = [(O.lion(1e-3), numpy_lion(grads_seq, 1e-3)),
             (O.lamb(1e-2, weight_decay=0.01), numpy_lamb(grads_seq, 1e-2)),
             (O.adafactor(1e-2, min_dim_size_to_factor=4), numpy_adafactor(grads_seq, 1e-2))]
    for opt, ref in cases:
        assert_params_close(fd_train(opt, grads_seq), ref, np.float64)


def optax_cases():
    optax = pytest.importorskip('optax')
    decay_matrices = lambda p: {k: v.ndim > 1 for k, v in p.items()}  # noqa: E731
    # optax computes Adam's bias corrections in float32 (1 - 0.999**t is then off by ~1e-5 relative
    # at t = 50), fn_dl in float64 as torch does: LAMB, built on Adam, agrees to 1e-4 only
    return {
        'lion': (O.lion(1e-3), optax.lion(1e-3), 1e-5),
        'lion_masked_decay': (O.lion(1e-3, weight_decay=0.1, mask=decay_matrices),
                              optax.lion(1e-3, weight_decay=0.1, mask=decay_matrices), 1e-5),
        'lamb': (O.lamb(1e-2, weight_decay=0.01), optax.lamb(1e-2, weight_decay=0.01), 1e-4),
        'adafactor': (O.adafactor(1e-2), optax.adafactor(1e-2), 1e-5),
        'adafactor_factored_momentum_decay': (
            O.adafactor(1e-2, min_dim_size_to_factor=4, momentum=0.9, weight_decay_rate=1e-3),
            optax.adafactor(1e-2, min_dim_size_to_factor=4, momentum=0.9, weight_decay_rate=1e-3), 1e-5),
        'adafactor_unfactored': (O.adafactor(1e-2, factored=False, multiply_by_parameter_scale=False,
                                             clipping_threshold=None),
                                 optax.adafactor(1e-2, factored=False, multiply_by_parameter_scale=False,
                                                 clipping_threshold=None), 1e-5),
        'adadelta': (O.adadelta(1.0), optax.adadelta(1.0), 1e-5),
    }


@pytest.mark.parametrize('name', ['lion', 'lion_masked_decay', 'lamb', 'adafactor',
                                  'adafactor_factored_momentum_decay', 'adafactor_unfactored', 'adadelta'])
def test_matches_optax(name):
    import jax
    import jax.numpy as jnp
    optax = pytest.importorskip('optax')
    ours, theirs, tol = optax_cases()[name]
    their_update = jax.jit(theirs.update)
    init = {**{k: v.astype(np.float32) for k, v in INIT.items()},
            'big': _rng.standard_normal((160, 130)).astype(np.float32)}  # factored by default
    pf = {k: fnp.asarray(v) for k, v in init.items()}
    po = {k: jnp.asarray(v) for k, v in init.items()}
    sf, so = ours.init(pf), theirs.init(po)
    for _ in range(STEPS):
        g = mlp_grads({k: np.asarray(po[k]) for k in INIT})
        g['big'] = np.sin(3 * np.asarray(po['big'])) + 0.1 * np.asarray(po['big'])
        u, so = their_update({k: jnp.asarray(v) for k, v in g.items()}, so, po)
        po = optax.apply_updates(po, u)
        u, sf = ours.update({k: fnp.asarray(v) for k, v in g.items()}, sf, pf)
        pf = O.apply_updates(pf, u)
    for k in init:
        ref = np.asarray(po[k])
        np.testing.assert_allclose(np.asarray(pf[k]), ref, rtol=tol, atol=tol * np.max(np.abs(ref)), err_msg=k)


# --- transforms: jit, vmap, grad, state -----------------------------------------------------------


def test_adamw_jitted_step_matches_eager():
    x, y = fnp.asarray(X.astype(np.float32)), fnp.asarray(Y.astype(np.float32))
    opt = O.chain(O.clip_by_global_norm(1.0), O.adamw(O.warmup_cosine_decay_schedule(0.0, 1e-2, 5, 30)))

    def step(params, opt_state, xb, yb):
        loss, grads = fd.value_and_grad(mlp_loss)(params, xb, yb)
        updates, opt_state = opt.update(grads, opt_state, params)
        return O.apply_updates(params, updates), opt_state, loss

    jitted = fd.jit(step)
    pe = pj = init_params(np.float32)
    se = sj = opt.init(pe)
    for _ in range(30):
        pe, se, le = step(pe, se, x, y)
        pj, sj, lj = jitted(pj, sj, x, y)
    assert jitted._cache_size() == 1
    assert fd.tree.structure(sj) == fd.tree.structure(se)
    for a, b in zip(fd.tree.leaves((pj, sj, lj)), fd.tree.leaves((pe, se, le))):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-6, atol=1e-7)
    assert float(lj) < float(mlp_loss(init_params(np.float32), x, y))


def _state_round_trip(state):
    """Through flatten, NumPy (as a checkpoint would) and unflatten."""
    leaves, treedef = fd.tree.flatten(state)
    return fd.tree.unflatten(treedef, [fnp.asarray(np.array(x)) for x in leaves])


STATEFUL = {
    'sgd_momentum': lambda: O.sgd(0.1, momentum=0.9, dampening=0.1),
    'adamw_schedule': lambda: O.adamw(O.cosine_decay_schedule(1e-2, 20)),
    'nadam': lambda: O.nadam(1e-2), 'radam': lambda: O.radam(1e-2), 'amsgrad': lambda: O.amsgrad(1e-2),
    'rmsprop': lambda: O.rmsprop(1e-2, centered=True, momentum=0.9), 'adafactor': lambda: O.adafactor(1e-2, 4),
    'lamb_masked': lambda: O.lamb(1e-2, weight_decay=0.1, mask={'w1': True, 'w2': True, 'b1': False, 'b2': False}),
    'multi_steps': lambda: O.MultiSteps(O.adam(1e-2), 3),
    'apply_if_finite': lambda: O.apply_if_finite(O.adam(1e-2), 2),
    'inject': lambda: O.inject_hyperparams(O.adamw)(learning_rate=O.linear_schedule(1e-2, 0.0, 10), b1=0.8),
    'zero_nans_chain': lambda: O.chain(O.zero_nans(), O.adagrad(0.1)),
}


@pytest.mark.parametrize('name', list(STATEFUL))
def test_state_survives_flatten_unflatten(name):
    opt = STATEFUL[name]()
    params = init_params()
    grads = [mlp_grads({k: v * (1 + 0.1 * i) for k, v in INIT.items()}) for i in range(6)]
    straight = fd_train(opt, grads)
    state = opt.init(params)
    for i, g in enumerate(grads):
        if i == 3:
            state = _state_round_trip(state)
        updates, state = opt.update({k: fnp.asarray(v) for k, v in g.items()}, state, params)
        params = O.apply_updates(params, updates)
    for k in straight:
        np.testing.assert_array_equal(np.asarray(params[k]), straight[k])


def test_vmap_over_an_ensemble_of_optimiser_states():
    opt = O.adamw(1e-2)
    members = [{k: fnp.asarray(v * (1 + 0.5 * i)) for k, v in INIT.items()} for i in range(3)]
    grads = [{k: fnp.asarray(v) for k, v in mlp_grads({k: np.asarray(v) for k, v in m.items()}).items()}
             for m in members]
    stack = lambda trees: fd.tree.map(lambda *xs: fnp.stack(xs), *trees)  # noqa: E731

    def step(p, s, g):
        u, s = opt.update(g, s, p)
        return O.apply_updates(p, u), s
    states = [opt.init(m) for m in members]
    out, _ = fd.vmap(step)(stack(members), stack(states), stack(grads))
    for i, (m, s, g) in enumerate(zip(members, states, grads)):
        one, _ = step(m, s, g)
        for k in one:
            np.testing.assert_allclose(np.asarray(out[k][i]), np.asarray(one[k]), rtol=1e-12)


def test_grad_through_an_update_with_respect_to_the_learning_rate():
    x, y = fnp.asarray(X), fnp.asarray(Y)
    params = init_params()

    def loss_after_step(lr, opt_factory):
        opt = opt_factory(lr)
        grads = fd.grad(mlp_loss)(params, x, y)
        updates, _ = opt.update(grads, opt.init(params), params)
        return mlp_loss(O.apply_updates(params, updates), x, y)
    for factory in (O.sgd, lambda lr: O.sgd(lr, momentum=0.9, nesterov=True), O.adam):
        lr, h = 0.05, 1e-6
        g = float(fd.grad(loss_after_step)(lr, factory))
        fd_estimate = (float(loss_after_step(lr + h, factory)) - float(loss_after_step(lr - h, factory))) / (2 * h)
        np.testing.assert_allclose(g, fd_estimate, rtol=1e-5)


# --- wrappers -----------------------------------------------------------------------------------


@pytest.mark.parametrize('jit', [False, True], ids=['eager', 'jit'])
def test_multi_steps_accumulates_the_mean_gradient(jit):
    k, inner = 3, O.adam(1e-2)
    grads = [mlp_grads({n: v * (1 + 0.1 * i) for n, v in INIT.items()}) for i in range(9)]
    means = [{n: np.mean([g[n] for g in grads[j:j + k]], axis=0) for n in INIT} for j in range(0, 9, k)]
    opt = O.MultiSteps(inner, every_k_schedule=k)

    def step(p, s, g):
        u, s = opt.update(g, s, p)
        return O.apply_updates(p, u), s, opt.has_updated(s)
    step = fd.jit(step) if jit else step
    params, state, moved = init_params(), opt.init(init_params()), []
    for g in grads:
        before = params
        params, state, updated = step(params, state, {n: fnp.asarray(v) for n, v in g.items()})
        moved.append(bool(updated))
        assert bool(updated) == (not np.array_equal(np.asarray(before['w1']), np.asarray(params['w1'])))
    assert moved == [False, False, True] * 3
    ref = fd_train(inner, means)
    for n in ref:
        np.testing.assert_allclose(np.asarray(params[n]), ref[n], rtol=1e-10)


def test_multi_steps_schedule_and_sum():
    opt = O.MultiSteps(O.sgd(1.0), every_k_schedule=lambda step: fnp.where(step < 1, 1, 2), use_grad_mean=False)
    state = opt.init(fnp.zeros(1))
    outs = []
    for g in (1.0, 2.0, 3.0, 4.0, 5.0):
        u, state = opt.update(fnp.asarray([g]), state)
        outs.append(u.tolist()[0])
    assert outs == [-1.0, 0.0, -5.0, 0.0, -9.0]


@pytest.mark.filterwarnings('ignore:invalid value:RuntimeWarning')  # the accepted inf step makes NaNs, as it should
@pytest.mark.parametrize('jit', [False, True], ids=['eager', 'jit'])
def test_apply_if_finite_skips_bad_steps(jit):
    opt = O.apply_if_finite(O.adam(0.1), max_consecutive_errors=2)
    update = fd.jit(opt.update) if jit else opt.update
    params = fnp.ones(2)
    state = opt.init(params)
    u, state = update(fnp.asarray([1.0, 2.0]), state, params)
    good_inner = state.inner_state
    for i in range(2):
        u, state = update(fnp.asarray([np.nan, 1.0]), state, params)
        assert u.tolist() == [0.0, 0.0] and not bool(state.last_finite)
        for a, b in zip(fd.tree.leaves(state.inner_state), fd.tree.leaves(good_inner)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    u, state = update(fnp.asarray([np.inf, 1.0]), state, params)  # the third in a row goes through
    assert not np.all(np.isfinite(np.asarray(u)))
    assert int(state.total_notfinite) == 3 and int(state.notfinite_count) == 3
    u, state = update(fnp.asarray([1.0, 1.0]), state, params)
    assert int(state.notfinite_count) == 0 and bool(state.last_finite)


def test_zero_nans_clip_and_block_rms():
    u, state = O.zero_nans().update({'a': fnp.asarray([np.nan, 2.0]), 'b': fnp.ones(1)},
                                    O.zero_nans().init({'a': fnp.zeros(2), 'b': fnp.zeros(1)}))
    assert u['a'].tolist() == [0.0, 2.0] and bool(state.found_nan['a']) and not bool(state.found_nan['b'])
    assert O.clip(0.5).update(fnp.asarray([-2.0, 0.25, 3.0]), ())[0].tolist() == [-0.5, 0.25, 0.5]
    out = O.clip_by_block_rms(1.0).update([fnp.full((4,), 3.0), fnp.full((2,), 0.5)], ())[0]
    np.testing.assert_allclose(np.asarray(out[0]), 1.0, rtol=1e-6)
    assert out[1].tolist() == [0.5, 0.5]


def test_masked_accepts_a_prefix_and_keeps_masked_out_leaves():
    params = {'enc': {'w': fnp.ones((2, 2)), 'b': fnp.ones(2)}, 'head': fnp.ones(3)}
    opt = O.masked(O.sgd(1.0, momentum=0.5), {'enc': True, 'head': False})
    state = opt.init(params)
    assert len(fd.tree.leaves(state)) == 3  # the step count and a momentum buffer per 'enc' leaf
    grads = fd.tree.map(lambda p: 2 * p, params)
    u, state = opt.update(grads, state, params)
    assert u['head'].tolist() == [2.0, 2.0, 2.0]  # passed through
    assert u['enc']['b'].tolist() == [-2.0, -2.0]


def test_inject_hyperparams_records_schedules_and_keeps_dtypes():
    opt = O.inject_hyperparams(O.sgd)(learning_rate=O.piecewise_constant_schedule(1.0, {2: 0.1}), momentum=0.5)
    params = fnp.zeros(1, dtype=fnp.bfloat16)
    state = opt.init(params)
    lrs = []
    for _ in range(3):
        u, state = opt.update(fnp.ones(1, dtype=fnp.bfloat16), state, params)
        lrs.append(round(float(state.hyperparams['learning_rate']), 6))
        assert u.dtype == fnp.bfloat16
        assert state.hyperparams['momentum'].dtype == fnp.float32  # bfloat16 would round 0.999 to 1
    assert lrs == [1.0, 1.0, 0.1]
    assert O.apply_updates(params, u).dtype == fnp.bfloat16


@pytest.mark.parametrize('dtype', [fnp.bfloat16, fnp.float16, fnp.float64])
def test_parameter_dtypes_are_kept(dtype):
    params = {'w': fnp.ones((3, 3), dtype=dtype)}
    for opt in (O.adamw(O.cosine_decay_schedule(1e-2, 10)), O.nadam(1e-2), O.radam(1e-2), O.lamb(1e-2),
                O.adafactor(1e-2, 2), O.sgd(0.1, momentum=0.9, dampening=0.1),
                O.MultiSteps(O.adam(1e-2), 2), O.apply_if_finite(O.adam(1e-2), 1)):
        state = opt.init(params)
        for _ in range(2):
            u, state = opt.update({'w': fnp.full((3, 3), 0.5, dtype=dtype)}, state, params)
        assert u['w'].dtype == dtype
        assert O.apply_updates(params, u)['w'].dtype == dtype


def test_canonical_training_step_reduces_the_loss():
    x, y = fnp.asarray(X.astype(np.float32)), fnp.asarray(Y.astype(np.float32))
    sched = O.warmup_cosine_decay_schedule(0.0, 3e-2, warmup_steps=10, decay_steps=100)
    opt = O.chain(O.clip_by_global_norm(1.0), O.adamw(sched))

    @fd.jit
    def step(params, opt_state, xb, yb):
        loss, grads = fd.value_and_grad(mlp_loss)(params, xb, yb)
        updates, opt_state = opt.update(grads, opt_state, params)
        return O.apply_updates(params, updates), opt_state, loss
    params = init_params(np.float32)
    opt_state = opt.init(params)
    losses = []
    for _ in range(100):
        params, opt_state, loss = step(params, opt_state, x, y)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


# --- errors -------------------------------------------------------------------------------------


def test_structure_mismatch_names_both_structures():
    params = init_params()
    grads = {k: v for k, v in params.items() if k != 'b2'}
    for fn in (lambda: O.apply_updates(params, grads),
               lambda: O.adamw(1e-2).update(grads, O.adamw(1e-2).init(grads), params)):
        with pytest.raises(ValueError, match=r"same structure; updates: PyTreeSpec\(\{'b1'.*parameters: .*'b2'"):
            fn()


def test_clear_errors():
    with pytest.raises(TypeError, match='learning_rate must be a number or a schedule'):
        O.adam('1e-3')
    with pytest.raises(TypeError, match='learning_rate must be a number or a schedule'):
        O.sgd(None)
    with pytest.raises(ValueError, match='add_decayed_weights needs the parameters'):
        O.adamw(1e-2).update(fnp.ones(1), O.adamw(1e-2).init(fnp.ones(1)))
    with pytest.raises(ValueError, match='nesterov momentum needs momentum > 0'):
        O.sgd(0.1, nesterov=True)
    with pytest.raises(TypeError, match='mask leaves must be Python bools'):
        O.adamw(1e-2, mask=lambda p: fd.tree.map(lambda x: x > 0, p)).init({'w': fnp.ones(1)})
    with pytest.raises(ValueError, match="mask must be a tree shaped like the parameters"):
        O.adamw(1e-2, mask={'v': True}).init({'w': fnp.ones(1)})
    with pytest.raises(ValueError, match="inside multi_transform or masked, a transformation sees the whole tree"):
        O.multi_transform({'a': O.adamw(1e-2, mask={'w': True}), 'b': O.sgd(1.0)}, {'w': 'a', 'v': 'b'}).init(
            {'w': fnp.ones(1), 'v': fnp.ones(1)})
    with pytest.raises(ValueError, match="no transformation for the labels 'c'; transforms has 'a', 'b'"):
        O.multi_transform({'a': O.sgd(1.0), 'b': O.sgd(1.0)}, {'w': 'a', 'v': 'c'}).init(
            {'w': fnp.ones(1), 'v': fnp.ones(1)})
    with pytest.raises(ValueError, match='every_k_schedule must be at least 1'):
        O.MultiSteps(O.sgd(1.0), 0)
    with pytest.raises(ValueError, match='the state holds 1 states for 2 transformations'):
        O.chain(O.sgd(1.0), O.scale(1.0)).update(fnp.ones(1), (O.EmptyState(),))
    with pytest.raises(ValueError, match=r"static_args \['nope'\] are not parameters of sgd"):
        O.inject_hyperparams(O.sgd, static_args='nope')
