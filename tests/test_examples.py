"""The examples run (small sizes, --quick) and do what the README says: losses fall, accuracy clears a bar."""
import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / 'examples'


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_mlp():
    final, first = load('train_mlp').main(quick=True)
    assert final < first


def test_per_sample_gradients():
    before, after = load('per_sample_gradients').main(quick=True)
    assert after >= before


def test_transforms_tour(capsys):
    load('transforms_tour').main()
    out = capsys.readouterr().out
    assert 'per-example gradient shape: (5, 3)' in out and 'stablehlo' in out


def test_text_classifier():
    module = load('text_classifier')
    result = module.main(quick=True)
    assert result['final_loss'] < result['first_loss']


def test_digits_cnn(tmp_path):
    pytest.importorskip('sklearn')
    pytest.importorskip('matplotlib')
    history = load('digits_cnn').main(quick=True, out_dir=str(tmp_path))
    assert history['loss'][-1] < history['loss'][0]
    assert history['test_acc'][-1] > 0.8
    assert (tmp_path / 'digits_cnn.png').stat().st_size > 1000
