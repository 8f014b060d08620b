"""Chapter 4 exercise checkers: right answers pass, each classic mistake fails with a hint, stubs do not raise."""

import numpy as np
import scipy.linalg

from lalib import exercises
from lalib import lowrank as lr


def stub(*args):
    raise NotImplementedError


# --------------------------------------------------------------------- range finder

def good_range_finder(A, ell, n_iter, rng):
    Q, _ = np.linalg.qr(A @ rng.standard_normal((A.shape[1], ell)))
    for _ in range(n_iter):
        Q, _ = np.linalg.qr(A.T @ Q)
        Q, _ = np.linalg.qr(A @ Q)
    return Q


def test_range_finder_checker(capsys):
    assert exercises.check_range_finder(good_range_finder).passed
    assert exercises.check_range_finder(lambda A, l, q, rng: lr.randomized_range_finder(A, l, q, rng=rng)).passed

    def no_reorthonormalization(A, ell, n_iter, rng):
        Y = A @ rng.standard_normal((A.shape[1], ell))
        for _ in range(n_iter):
            Y = A @ (A.T @ Y)
        return np.linalg.qr(Y)[0]

    capsys.readouterr()
    assert not exercises.check_range_finder(no_reorthonormalization).passed
    out = capsys.readouterr().out
    assert "collapse" in out and "Hint" in out

    def no_qr_at_all(A, ell, n_iter, rng):
        return A @ rng.standard_normal((A.shape[1], ell))

    assert not exercises.check_range_finder(no_qr_at_all).passed
    assert "orthonormal" in capsys.readouterr().out
    assert not exercises.check_range_finder(stub).passed


# --------------------------------------------------------------------- PCA

def test_pca_checker(capsys):
    def good(X, k):
        Xc = X - X.mean(axis=0)
        _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
        return -Vt[:k], s[:k] ** 2 / (len(X) - 1)          # signs are free

    assert exercises.check_pca(good).passed

    def not_centred(X, k):
        _, s, Vt = np.linalg.svd(X, full_matrices=False)
        return Vt[:k], s[:k] ** 2 / (len(X) - 1)

    capsys.readouterr()
    assert not exercises.check_pca(not_centred).passed
    assert "centre" in capsys.readouterr().out

    def divides_by_n(X, k):
        c, v = good(X, k)
        return c, v * (len(X) - 1) / len(X)

    assert not exercises.check_pca(divides_by_n).passed

    def components_in_columns(X, k):
        c, v = good(X, k)
        return c.T, v

    assert not exercises.check_pca(components_in_columns).passed
    assert not exercises.check_pca(stub).passed


# --------------------------------------------------------------------- LoRA init

def test_lora_init_checker(capsys):
    def good(W, r, alpha, rng):
        return {"A": rng.standard_normal((W.shape[0], r)), "B": np.zeros((r, W.shape[1])), "scale": alpha / r}

    assert exercises.check_lora_init(good).passed

    def random_B(W, r, alpha, rng):
        return {**good(W, r, alpha, rng), "B": rng.standard_normal((r, W.shape[1]))}

    capsys.readouterr()
    assert not exercises.check_lora_init(random_B).passed
    assert "start equal" in capsys.readouterr().out

    def both_zero(W, r, alpha, rng):
        return {**good(W, r, alpha, rng), "A": np.zeros((W.shape[0], r))}

    assert not exercises.check_lora_init(both_zero).passed
    assert "gradient" in capsys.readouterr().out

    def scale_alpha(W, r, alpha, rng):
        return {**good(W, r, alpha, rng), "scale": alpha}

    assert not exercises.check_lora_init(scale_alpha).passed
    assert "alpha / r" in capsys.readouterr().out

    def swapped_shapes(W, r, alpha, rng):
        return {"A": np.zeros((r, W.shape[1])), "B": rng.standard_normal((W.shape[0], r)), "scale": alpha / r}

    assert not exercises.check_lora_init(swapped_shapes).passed
    assert not exercises.check_lora_init(stub).passed


# --------------------------------------------------------------------- ALS half-step

def test_als_update_checker(capsys):
    def good(R, mask, V, reg):
        k = V.shape[1]
        U = np.empty((R.shape[0], k))
        for i in range(R.shape[0]):
            Vi, ri = V[mask[i]], R[i, mask[i]]
            U[i] = scipy.linalg.cho_solve(scipy.linalg.cho_factor(Vi.T @ Vi + reg * np.eye(k)), Vi.T @ ri)
        return U

    assert exercises.check_als_update(good).passed

    def zeros_as_ratings(R, mask, V, reg):
        k = V.shape[1]
        return np.linalg.solve(V.T @ V + reg * np.eye(k), V.T @ R.T).T

    capsys.readouterr()
    assert not exercises.check_als_update(zeros_as_ratings).passed
    assert "unknown, not zero" in capsys.readouterr().out

    def forgets_ridge(R, mask, V, reg):
        return good(R, mask, V, 0.0) if reg > 0.5 else good(R, mask, V, reg)

    assert not exercises.check_als_update(forgets_ridge).passed
    assert not exercises.check_als_update(stub).passed


# --------------------------------------------------------------------- parameter count

def test_lora_params_checker(capsys):
    assert exercises.check_lora_params(96 * 4 * 8 * (12288 + 12288)).passed
    assert not exercises.check_lora_params(96 * 4 * 8 * 12288).passed          # one factor only
    assert not exercises.check_lora_params(96 * 2 * 8 * (12288 + 12288)).passed  # only W_q and W_v
    assert not exercises.check_lora_params(96 * 4 * 12288 * 12288).passed      # full fine-tuning
    assert "Hint" in capsys.readouterr().out
    assert not exercises.check_lora_params(None).passed
