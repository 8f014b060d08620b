"""Chapter 6 exercise checkers: right answers pass, typical mistakes fail with a hint, stubs do not raise."""

import numpy as np

from lalib import exercises, linalg


def stub(*args):
    raise NotImplementedError


def plain_lanczos(A, v0, m):
    """The three-term recurrence alone (no reorthogonalization): a plausible wrong answer."""
    return linalg.lanczos_basis(A, m, reorth="none", v0=v0)


def test_lanczos_full_reorth_checker(capsys):
    assert exercises.check_lanczos_full_reorth(lambda A, v0, m: linalg.lanczos_basis(A, m, reorth="full", v0=v0))
    capsys.readouterr()
    assert not exercises.check_lanczos_full_reorth(plain_lanczos).passed
    out = capsys.readouterr().out
    assert "not orthonormal" in out and "Hint" in out and "ALL" in out
    # a basis that is orthonormal but not the Krylov basis (e.g. from a random start) fails too
    wrong_start = lambda A, v0, m: linalg.lanczos_basis(A, m, reorth="full", v0=np.arange(1.0, A.shape[0] + 1))  # noqa: E731
    assert not exercises.check_lanczos_full_reorth(wrong_start).passed
    assert not exercises.check_lanczos_full_reorth(stub).passed


def test_pairwise_sum_fp16_checker(capsys):
    assert exercises.check_pairwise_sum_fp16(lambda x: linalg.lowp_sum(x, "pairwise"))

    def recursive(x):  # a different, equally right, pairwise order
        x = np.asarray(x, dtype=np.float16)
        if x.size == 1:
            return x[0]
        h = x.size // 2
        return np.float16(recursive(x[:h]) + recursive(x[h:]))

    assert exercises.check_pairwise_sum_fp16(recursive)
    capsys.readouterr()
    assert not exercises.check_pairwise_sum_fp16(lambda x: linalg.lowp_sum(x, "sequential")).passed
    out = capsys.readouterr().out
    assert "pairwise bound" in out and "Hint" in out
    assert not exercises.check_pairwise_sum_fp16(lambda x: float(np.sum(x.astype(np.float64)))).passed
    assert "not a float16 number" in capsys.readouterr().out
    assert not exercises.check_pairwise_sum_fp16(stub).passed


def test_softmax_fp16_checker(capsys):
    assert exercises.check_softmax_fp16(linalg.lowp_softmax)
    capsys.readouterr()

    def no_shift(x):
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x.astype(np.float16))
            return (e / e.sum(axis=-1, keepdims=True, dtype=np.float32)).astype(np.float16)

    assert not exercises.check_softmax_fp16(no_shift).passed
    out = capsys.readouterr().out
    assert "overflow" in out and "maximum" in out
    assert not exercises.check_softmax_fp16(lambda x: linalg.lowp_softmax(x, dtype=np.float64)).passed
    assert "float16" in capsys.readouterr().out
    assert not exercises.check_softmax_fp16(stub).passed


def test_jl_dimension_checker(capsys):
    assert exercises.check_jl_dimension(linalg.jl_dimension)
    capsys.readouterr()
    no_cubic = lambda n, eps: int(np.ceil(4 * np.log(n) / (eps**2 / 2)))  # noqa: E731
    assert not exercises.check_jl_dimension(no_cubic).passed
    assert "Hint" in capsys.readouterr().out
    rounded_down = lambda n, eps: int(4 * np.log(n) / (eps**2 / 2 - eps**3 / 3))  # noqa: E731
    assert not exercises.check_jl_dimension(rounded_down).passed
    log2 = lambda n, eps: int(np.ceil(4 * np.log2(n) / (eps**2 / 2 - eps**3 / 3)))  # noqa: E731
    assert not exercises.check_jl_dimension(log2).passed
    assert not exercises.check_jl_dimension(stub).passed
