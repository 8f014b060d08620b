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
    assert exercises.check_projection(lambda A, b: mgs(A)[0] @ (mgs(A)[0].T @ b)).passed
    assert exercises.check_projection(lambda A, b: A @ np.linalg.lstsq(A, b, rcond=None)[0]).passed
    assert not exercises.check_projection(lambda A, b: b).passed
    assert not exercises.check_projection(not_written).passed
    result = exercises.check_projection(lambda A, b: A @ (A.T @ b))  # forgets to orthonormalise
    assert not result.passed and "Hint" in result.message


def test_projection_checker_rejects_the_normal_equations():
    # right in exact arithmetic; with kappa(A) = 1e8 the normal equations square kappa to 1e16
    normal_inv = lambda A, b: A @ (np.linalg.inv(A.T @ A) @ (A.T @ b))  # noqa: E731
    normal_solve = lambda A, b: A @ np.linalg.solve(A.T @ A, A.T @ b)  # noqa: E731
    for wrong in (normal_inv, normal_solve):
        result = exercises.check_projection(wrong)
        assert not result.passed and "case 4 of 4" in result.message
        assert "normal equations" in result.message and "Hint" in result.message
    classical = lambda A, b: cgs(A)[0] @ (cgs(A)[0].T @ b)  # noqa: E731
    assert not exercises.check_projection(classical).passed


def power_iteration_norm(W, n_iter=100):
    x = np.ones(W.shape[1])
    for _ in range(n_iter):
        x = W.T @ (W @ x)
        x /= np.linalg.norm(x)
    return np.linalg.norm(W @ x)


def test_spectral_norm_checker():
    assert exercises.check_spectral_norm(power_iteration_norm).passed

    def library(W):  # the library's power iteration on the product x -> W^T W x
        lam, _, _ = linalg.power_iteration(lambda x: W.T @ (W @ x), x0=np.ones(W.shape[1]), tol=1e-14)
        return np.sqrt(lam)

    assert exercises.check_spectral_norm(library).passed
    assert not exercises.check_spectral_norm(not_written).passed
    assert not exercises.check_spectral_norm(lambda W: power_iteration_norm(W, n_iter=3)).passed  # too few steps


def test_spectral_norm_checker_offers_products_only():
    # W is an operator: a dense norm or SVD cannot be taken, and rebuilding W column by column
    # runs past the product budget
    for wrong in (lambda W: np.linalg.norm(W, 2), lambda W: np.linalg.norm(W, "fro"),
                  lambda W: np.linalg.svd(W)[1][0],
                  lambda W: np.linalg.norm(W @ np.eye(W.shape[1]), 2),
                  lambda W: np.linalg.norm(np.column_stack([W @ e for e in np.eye(W.shape[1])]), 2)):
        result = exercises.check_spectral_norm(wrong)
        assert not result.passed and "Hint" in result.message
    rebuilt = exercises.check_spectral_norm(
        lambda W: np.linalg.norm(np.column_stack([W @ e for e in np.eye(W.shape[1])]), 2))
    assert "products" in rebuilt.message and "case 3" in rebuilt.message


def test_conv1d_matrix_checker():
    assert exercises.check_conv1d_matrix(linalg.conv1d_matrix).passed
    flipped = lambda w, n: linalg.conv1d_matrix(w, n, kind="convolution")  # noqa: E731
    assert not exercises.check_conv1d_matrix(flipped).passed
    assert not exercises.check_conv1d_matrix(not_written).passed
    assert not exercises.check_conv1d_matrix("T").passed
