"""The checker pattern: hidden cases, a hint on failure, never an exception."""

import numpy as np
import pytest

from lalib import exercises


def test_correct_answer_passes(capsys):
    result = exercises.run_checker("double", lambda x: 2 * x, [((np.arange(3.0),), 2 * np.arange(3.0))], "multiply")
    assert result.passed and bool(result)
    assert "all 1 hidden cases pass" in capsys.readouterr().out


def test_wrong_answer_fails_with_hint(capsys):
    result = exercises.run_checker("double", lambda x: 3 * x, [((np.ones(2),), 2 * np.ones(2))], "multiply by two")
    out = capsys.readouterr().out
    assert not result.passed
    assert "case 1 of 1 fails" in out and "Hint: multiply by two" in out


def test_unwritten_stub_is_reported_not_raised(capsys):
    def stub(x):
        raise NotImplementedError

    result = exercises.run_checker("f", stub, [((1.0,), 1.0)], "write it")
    assert not result.passed and "not written yet" in capsys.readouterr().out


def test_crash_in_learner_code_is_a_result(capsys):
    result = exercises.run_checker("f", lambda x: x[5], [((np.ones(2),), 1.0)], "index")
    assert not result.passed and "IndexError" in capsys.readouterr().out


def test_none_shape_and_nan_are_explained(capsys):
    assert not exercises.run_checker("f", lambda x: None, [((1.0,), 1.0)], "h").passed
    assert not exercises.run_checker("f", lambda x: np.ones(3), [((1.0,), np.ones(2))], "h").passed
    assert not exercises.run_checker("f", lambda x: np.array([np.nan]), [((1.0,), np.ones(1))], "h").passed
    out = capsys.readouterr().out
    assert "returned None" in out and "shape (3,), expected (2,)" in out and "NaN" in out


def test_inputs_are_copied_so_a_learner_cannot_corrupt_the_cases():
    x = np.ones(3)

    def mutating(a):
        a[:] = 0
        return a

    exercises.run_checker("f", mutating, [((x,), np.zeros(3))], "h")
    assert np.all(x == 1)


def test_check_value(capsys):
    assert exercises.check_value("trace", 3.0, 3.0, "h").passed
    assert not exercises.check_value("trace", None, 3.0, "h").passed
    assert not exercises.check_value("trace", 2.0, 3.0, "sum the diagonal").passed
    assert "Hint: sum the diagonal" in capsys.readouterr().out


def test_a_cell_ending_in_a_checker_shows_the_verdict_once():
    from IPython.core.formatters import DisplayFormatter

    result = exercises.check_value("trace", 3.0, 3.0, "h")
    shown, _ = DisplayFormatter().format(result)
    assert shown == {}  # _ipython_display_ takes over and displays nothing more


# --- chapter 2: MLPs and backpropagation ---
# Each checker passes the kernel's own answer and fails plausible wrong answers with a hint.

from lalib import mlp  # noqa: E402


def _ch2_bn_backward(dout, Z, gamma):
    _, cache = mlp.batch_norm_forward(Z, gamma, np.zeros_like(gamma))
    return mlp.batch_norm_backward(dout, cache)[0]


def _ch2_summary(M, k):
    s = np.linalg.svd(M, compute_uv=False)
    return float(np.sum(s ** 2) / s[0] ** 2), float(np.sum(s[:k] ** 2) / np.sum(s ** 2))


def _ch2_gelu_m2(q):
    t = np.linspace(-12, 12, 40001) * np.sqrt(q)
    w = np.exp(-t ** 2 / (2 * q)) / np.sqrt(2 * np.pi * q)
    return float(np.sum(mlp.gelu(t) ** 2 * w) * (t[1] - t[0]))


CH2_CORRECT = {
    "check_dense_backward": lambda d, X, W: mlp.dense_backward(d, X, W),
    "check_softmax_cross_entropy_grad": lambda Z, y: mlp.softmax_cross_entropy(Z, y)[1],
    "check_batch_norm_backward": _ch2_bn_backward,
    "check_low_rank_summary": _ch2_summary,
    "check_gelu_second_moment": _ch2_gelu_m2,
}


def _mc_gelu_m2(q):
    z = np.sqrt(q) * np.random.default_rng(0).standard_normal(100_000)
    return float(np.mean(mlp.gelu(z) ** 2))


CH2_WRONG = {
    "check_dense_backward": [
        ("dW transposed (W^T-shaped gradient: δᵀX)", lambda d, X, W: (d @ W.T, d.T @ X, d.sum(axis=0))),
        ("dX = δ W, without the transpose", lambda d, X, W: (d @ W, X.T @ d, d.sum(axis=0))),
        ("db averaged instead of summed", lambda d, X, W: (d @ W.T, X.T @ d, d.mean(axis=0))),
    ],
    "check_softmax_cross_entropy_grad": [
        ("forgets the 1/n of the mean", lambda Z, y: mlp.softmax(Z) - np.eye(Z.shape[1])[y]),
        ("unstable exp overflows at scores near 1000",
         lambda Z, y: (np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True) - np.eye(Z.shape[1])[y]) / len(y)),
        ("true minus predicted (sign)", lambda Z, y: (np.eye(Z.shape[1])[y] - mlp.softmax(Z)) / len(y)),
    ],
    "check_batch_norm_backward": [
        ("treats μ and v as constants", lambda dout, Z, gamma: dout * gamma / np.sqrt(Z.var(axis=0) + 1e-5)),
        ("keeps the mean term, drops the variance term",
         lambda dout, Z, gamma: (dout * gamma - (dout * gamma).mean(axis=0)) / np.sqrt(Z.var(axis=0) + 1e-5)),
    ],
    "check_low_rank_summary": [
        ("ratio of norms, not of squared norms",
         lambda M, k: (np.linalg.norm(M) / np.linalg.norm(M, 2), _ch2_summary(M, k)[1])),
        ("energy in singular values, not their squares",
         lambda M, k: (_ch2_summary(M, k)[0],
                       float(np.sum(np.linalg.svd(M, compute_uv=False)[:k]) / np.sum(np.linalg.svd(M, compute_uv=False))))),
        ("numerical rank instead of stable rank",
         lambda M, k: (float(np.linalg.matrix_rank(M)), _ch2_summary(M, k)[1])),
    ],
    "check_gelu_second_moment": [
        ("ReLU's answer q/2", lambda q: q / 2),
        ("Monte Carlo with 1e5 samples", _mc_gelu_m2),
        # Stein's lemma: E[z Φ(z)] = q / sqrt(2π (1 + q)) for z ~ N(0, q).
        ("(E[GELU(z)])² instead of E[GELU(z)²]", lambda q: (q / np.sqrt(2 * np.pi * (1 + q))) ** 2),
    ],
}


@pytest.mark.parametrize("name", sorted(CH2_CORRECT))
def test_chapter2_checker_passes_a_correct_answer(name, capsys):
    assert getattr(exercises, name)(CH2_CORRECT[name]).passed
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("name, label, wrong",
                         [(name, label, wrong) for name, cases in sorted(CH2_WRONG.items()) for label, wrong in cases],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_chapter2_checker_fails_a_plausible_wrong_answer_with_a_hint(name, label, wrong, capsys):
    with np.errstate(all="ignore"):
        result = getattr(exercises, name)(wrong)
    out = capsys.readouterr().out
    assert not result.passed, f"{name} accepted: {label}"
    assert "✘" in out and "Hint:" in out


def test_every_chapter2_checker_is_exercised():
    import inspect

    import lalib.exercises as ex

    source = inspect.getsource(ex)
    section = source.split("# --- chapter 2")[1].split("# --- chapter 3")[0]
    names = {line.split("(")[0][4:] for line in section.splitlines() if line.startswith("def check_")}
    assert names == set(CH2_CORRECT) == set(CH2_WRONG)
