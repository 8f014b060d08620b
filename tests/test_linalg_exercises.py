"""The chapter 0 exercise checkers accept right answers and reject wrong ones with a hint."""

import numpy as np

from lalib import exercises, linalg


def cgs(A):
    return linalg.gram_schmidt(A, "classical")


def mgs(A):
    return linalg.gram_schmidt(A, "modified")


def not_written(*args):
    raise NotImplementedError


def test_gram_schmidt_checker(capsys):
    assert exercises.check_modified_gram_schmidt(mgs).passed
    result = exercises.check_modified_gram_schmidt(cgs)  # right in exact arithmetic, not in floating point
    assert not result.passed and "case 3" in result.message and "classical" in result.message
    assert not exercises.check_modified_gram_schmidt(not_written).passed
    assert not exercises.check_modified_gram_schmidt(lambda A: np.linalg.qr(A)).passed  # R may have r_jj < 0
    assert not exercises.check_modified_gram_schmidt(lambda A: None).passed
    assert "✘" in capsys.readouterr().out


def test_projection_checker():
    assert exercises.check_projection(linalg.project).passed
    assert not exercises.check_projection(lambda A, b: b).passed
    assert not exercises.check_projection(not_written).passed
    result = exercises.check_projection(lambda A, b: A @ (A.T @ b))  # forgets to orthonormalise
    assert not result.passed and "Hint" in result.message


def test_spectral_norm_checker():
    def spectral_norm(W):
        lam, _, _ = linalg.power_iteration(W.T @ W, x0=np.ones(W.shape[1]), tol=1e-14, max_iter=5000)
        return np.sqrt(lam)

    assert exercises.check_spectral_norm(spectral_norm).passed
    assert not exercises.check_spectral_norm(lambda W: np.linalg.norm(W, "fro")).passed
    assert not exercises.check_spectral_norm(not_written).passed


def test_conv1d_matrix_checker():
    assert exercises.check_conv1d_matrix(linalg.conv1d_matrix).passed
    flipped = lambda w, n: linalg.conv1d_matrix(w, n, kind="convolution")  # noqa: E731
    assert not exercises.check_conv1d_matrix(flipped).passed
    assert not exercises.check_conv1d_matrix(not_written).passed
    assert not exercises.check_conv1d_matrix("T").passed
