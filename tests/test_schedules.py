"""fd.optim schedules: against torch.optim.lr_scheduler, optax and their formulas; under jit and vmap."""
import math

import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp

O = fd.optim


def values(schedule, n):
    return np.array([float(schedule(t)) for t in range(n)])


def torch_lrs(make_scheduler, n, base_lr=1.0):
    """The learning rate torch uses at each of n steps."""
    torch = pytest.importorskip('torch')
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = make_scheduler(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]['lr'])
        opt.step()
        scheduler.step()
    return np.array(out)


def _torch_cases():
    from torch.optim import lr_scheduler as L
    return {
        'linear': (lambda o: L.LinearLR(o, 0.1, 1.0, total_iters=10), O.linear_schedule(0.1, 1.0, 10), 30),
        'polynomial': (lambda o: L.PolynomialLR(o, total_iters=20, power=2.0),
                       O.polynomial_schedule(1.0, 0.0, 2.0, 20), 30),
        'cosine': (lambda o: L.CosineAnnealingLR(o, T_max=20, eta_min=0.01), O.cosine_decay_schedule(1.0, 20, 0.01),
                   21),
        'exponential': (lambda o: L.ExponentialLR(o, gamma=0.9), O.exponential_decay(1.0, 1, 0.9), 40),
        'step': (lambda o: L.StepLR(o, step_size=7, gamma=0.5),
                 O.exponential_decay(1.0, 7, 0.5, staircase=True), 30),
        'multistep': (lambda o: L.MultiStepLR(o, milestones=[5, 12], gamma=0.3),
                      O.piecewise_constant_schedule(1.0, {5: 0.3, 12: 0.3}), 30),
        'one_cycle': (lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=50), O.one_cycle_schedule(50, 0.5), 50),
        'one_cycle_linear': (lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=50, anneal_strategy='linear'),
                             O.one_cycle_schedule(50, 0.5, anneal_strategy='linear'), 50),
        'one_cycle_three_phase': (lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=50, three_phase=True),
                                  O.one_cycle_schedule(50, 0.5, three_phase=True), 50),
        'one_cycle_options': (lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=40, pct_start=0.25, div_factor=10.0,
                                                     final_div_factor=100.0),
                              O.one_cycle_schedule(40, 0.5, pct_start=0.25, div_factor=10.0,
                                                   final_div_factor=100.0), 40),
        'warmup_cosine_as_sequential': (
            lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.01, 1.0, total_iters=5),
                                         L.CosineAnnealingLR(o, T_max=15, eta_min=0.001)], milestones=[5]),
            O.warmup_cosine_decay_schedule(0.01, 1.0, warmup_steps=5, decay_steps=20, end_value=0.001), 21),
        'join_constant_then_exponential': (
            lambda o: L.SequentialLR(o, [L.ConstantLR(o, factor=0.5, total_iters=100),
                                         L.ExponentialLR(o, gamma=0.8)], milestones=[6]),
            O.join_schedules([O.constant_schedule(0.5), O.exponential_decay(1.0, 1, 0.8)], [6]), 20),
    }


@pytest.mark.filterwarnings('ignore::UserWarning')  # torch's SequentialLR warns about its own step(epoch) call
@pytest.mark.parametrize('name', ['linear', 'polynomial', 'cosine', 'exponential', 'step', 'multistep', 'one_cycle',
                                  'one_cycle_linear', 'one_cycle_three_phase', 'one_cycle_options',
                                  'warmup_cosine_as_sequential', 'join_constant_then_exponential'])
def test_matches_torch_lr_scheduler(name):
    pytest.importorskip('torch')
    make, schedule, n = _torch_cases()[name]
    np.testing.assert_allclose(values(schedule, n), torch_lrs(make, n), rtol=1e-6, atol=1e-9)


def _optax_cases():
    import optax
    return [
        (O.constant_schedule(0.3), optax.constant_schedule(0.3)),
        (O.linear_schedule(1.0, 0.1, 20, transition_begin=5), optax.linear_schedule(1.0, 0.1, 20, 5)),
        (O.polynomial_schedule(2.0, 0.5, 3.0, 30, 2), optax.polynomial_schedule(2.0, 0.5, 3.0, 30, 2)),
        (O.cosine_decay_schedule(1.0, 30, alpha=0.1, exponent=2.0), optax.cosine_decay_schedule(1.0, 30, 0.1, 2.0)),
        (O.warmup_cosine_decay_schedule(0.0, 1.0, 10, 40, end_value=0.05),
         optax.warmup_cosine_decay_schedule(0.0, 1.0, 10, 40, end_value=0.05)),
        (O.exponential_decay(1.0, 5, 0.5, transition_begin=3, end_value=0.2),
         optax.exponential_decay(1.0, 5, 0.5, transition_begin=3, end_value=0.2)),
        (O.exponential_decay(0.1, 4, 2.0, staircase=True, end_value=0.5),
         optax.exponential_decay(0.1, 4, 2.0, staircase=True, end_value=0.5)),
        (O.piecewise_constant_schedule(1.0, {10: 0.5, 3: 0.1, 20: 4.0}),
         optax.piecewise_constant_schedule(1.0, {10: 0.5, 3: 0.1, 20: 4.0})),
        (O.join_schedules([O.linear_schedule(0.0, 1.0, 5), O.constant_schedule(1.0), O.cosine_decay_schedule(1.0, 10)],
                          [5, 15]),
         optax.join_schedules([optax.linear_schedule(0.0, 1.0, 5), optax.constant_schedule(1.0),
                               optax.cosine_decay_schedule(1.0, 10)], [5, 15])),
    ]


def test_matches_optax():
    pytest.importorskip('optax')
    import jax.numpy as jnp
    for ours, theirs in _optax_cases():
        np.testing.assert_allclose(values(ours, 45), np.asarray(theirs(jnp.arange(45))), rtol=1e-6, atol=1e-9)


def test_formulas():
    np.testing.assert_allclose(values(O.cosine_decay_schedule(2.0, 8), 12),
                               [2.0 * 0.5 * (1 + math.cos(math.pi * min(t, 8) / 8)) for t in range(12)], rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(values(O.polynomial_schedule(1.0, 0.2, 0.5, 10), 15),
                               [0.8 * (1 - min(t, 10) / 10) ** 0.5 + 0.2 for t in range(15)], rtol=1e-6)
    np.testing.assert_allclose(values(O.exponential_decay(3.0, 10, 0.1), 25),
                               [3.0 * 0.1 ** (t / 10) for t in range(25)], rtol=1e-6)
    assert values(O.piecewise_constant_schedule(2.0), 3).tolist() == [2.0, 2.0, 2.0]
    # a transition of zero steps has already happened
    assert values(O.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=0, decay_steps=4), 2).tolist() == \
        [1.0, float(np.float32(0.5 * (1 + math.cos(math.pi / 4))))]
    assert values(O.linear_schedule(1.0, 0.5, 0), 2).tolist() == [0.5, 0.5]
    # one_cycle stays at its final value past the last step (torch raises there)
    last = float(O.one_cycle_schedule(10, 1.0)(9))
    assert values(O.one_cycle_schedule(10, 1.0), 15)[9:].tolist() == [last] * 6
    np.testing.assert_allclose(last, 1.0 / 25 / 1e4, rtol=1e-6)


def test_under_jit_and_vmap_and_with_python_or_array_counts():
    for schedule in (O.warmup_cosine_decay_schedule(0.0, 1.0, 5, 30), O.one_cycle_schedule(30, 0.1, three_phase=True),
                     O.piecewise_constant_schedule(1.0, {4: 0.5}), O.exponential_decay(1.0, 3, 0.7, staircase=True)):
        eager = values(schedule, 32)
        counts = fnp.arange(32, dtype=fnp.int32)
        jitted = fd.jit(schedule)
        np.testing.assert_allclose([float(jitted(c)) for c in counts], eager, rtol=1e-6, atol=1e-9)
        assert jitted._cache_size() == 1
        np.testing.assert_allclose(np.asarray(fd.vmap(schedule)(counts)), eager, rtol=1e-6, atol=1e-9)
        assert schedule(3).dtype == fnp.float32 and schedule(fnp.asarray(3, dtype=fnp.int32)).shape == ()


def test_errors():
    with pytest.raises(ValueError, match='cosine_decay_schedule: decay_steps must be non-negative'):
        O.cosine_decay_schedule(1.0, -1)
    with pytest.raises(ValueError, match='exponential_decay: transition_steps must be positive'):
        O.exponential_decay(1.0, 0, 0.5)
    with pytest.raises(ValueError, match='one boundary between each two schedules'):
        O.join_schedules([O.constant_schedule(1.0)], [3])
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        O.one_cycle_schedule(10, 1.0, anneal_strategy='exp')
