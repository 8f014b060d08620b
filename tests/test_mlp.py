"""Tests for lalib.mlp: every gradient against finite differences, training, init, bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lalib import datasets, mlp
from numeric_helpers import fd_grad, rel_err


def fd_elementwise(f, z, eps=1e-6):
    """Derivative of an element-wise function by central differences, entry by entry."""
    return (f(z + eps) - f(z - eps)) / (2 * eps)




# --- activations -------------------------------------------------------------

ACT = {
    "relu": (mlp.relu, mlp.relu_grad),
    "tanh": (mlp.tanh, mlp.tanh_grad),
    "sigmoid": (mlp.sigmoid, mlp.sigmoid_grad),
    "gelu": (mlp.gelu, mlp.gelu_grad),
}


@pytest.mark.parametrize("name", sorted(ACT))
def test_activation_derivative_matches_finite_differences(name, rng):
    f, df = ACT[name]
    z = rng.standard_normal(200) * 3
    z = z[np.abs(z) > 1e-3]  # keep away from ReLU's kink, where no derivative exists
    assert rel_err(df(z), fd_elementwise(f, z)) < 1e-6


def test_activations_against_closed_forms():
    z = np.linspace(-5, 5, 101)
    from scipy.special import erf, expit

    np.testing.assert_allclose(mlp.relu(z), np.where(z > 0, z, 0))
    np.testing.assert_allclose(mlp.tanh(z), np.tanh(z))
    np.testing.assert_allclose(mlp.sigmoid(z), expit(z), rtol=1e-14)
    np.testing.assert_allclose(mlp.gelu(z), 0.5 * z * (1 + erf(z / np.sqrt(2))), rtol=1e-13, atol=1e-15)


def test_sigmoid_does_not_overflow():
    with np.errstate(all="raise"):
        s = mlp.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_allclose(s, [0.0, 1.0])


@pytest.mark.parametrize("name", sorted(ACT))
def test_activations_preserve_float32(name):
    f, df = ACT[name]
    z = np.linspace(-2, 2, 7, dtype=np.float32)
    assert f(z).dtype == np.float32 and df(z).dtype == np.float32


def test_activation_jacobian_is_diagonal(rng):
    z = rng.standard_normal(6)
    J = mlp.numerical_jacobian(mlp.tanh, z)
    np.testing.assert_allclose(J, np.diag(mlp.tanh_grad(z)), atol=1e-9)


# --- softmax and losses --------------------------------------------------------

def test_softmax_is_stable_and_sums_to_one():
    z = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]])
    p = mlp.softmax(z)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], mlp.softmax([0.0, 1.0, 2.0]))
    np.testing.assert_allclose(mlp.log_softmax(z), np.log(p))


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=8), st.floats(-100, 100))
def test_softmax_shift_invariance(values, c):
    z = np.array(values)
    np.testing.assert_allclose(mlp.softmax(z + c), mlp.softmax(z), atol=1e-12)


def test_cross_entropy_value_against_direct_formula(rng):
    Z = rng.standard_normal((7, 4))
    y = rng.integers(0, 4, 7)
    loss, _ = mlp.softmax_cross_entropy(Z, y)
    p = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(7), y])), rel=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot_and_matches_fd(rng):
    Z = rng.standard_normal((6, 5)) * 2
    y = rng.integers(0, 5, 6)
    _, dZ = mlp.softmax_cross_entropy(Z, y)
    np.testing.assert_allclose(dZ, (mlp.softmax(Z) - np.eye(5)[y]) / 6, atol=1e-15)
    g = fd_grad(lambda z: mlp.softmax_cross_entropy(z, y)[0], Z)
    assert rel_err(dZ, g) < 1e-6


def test_cross_entropy_large_scores_finite():
    loss, dZ = mlp.softmax_cross_entropy([[1e4, 0.0]], [1])
    assert loss == pytest.approx(1e4) and np.all(np.isfinite(dZ))


def test_mse_gradient_matches_fd(rng):
    Yh, Y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss, g = mlp.mse_loss(Yh, Y)
    assert loss == pytest.approx(0.5 * np.sum((Yh - Y) ** 2) / 5)
    assert rel_err(g, fd_grad(lambda a: mlp.mse_loss(a, Y)[0], Yh)) < 1e-6


# --- layers ----------------------------------------------------------------------

def test_dense_forward_is_affine(rng):
    X, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    Z = mlp.dense_forward(X, W, b)
    np.testing.assert_allclose(Z, np.array([[x @ W[:, j] + b[j] for j in range(2)] for x in X]))


def test_dense_backward_matches_fd(rng):
    X, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    G = rng.standard_normal((5, 3))  # L = <G, XW + b> has dL/dZ = G

    def loss(X_, W_, b_):
        return float(np.sum(G * mlp.dense_forward(X_, W_, b_)))

    dX, dW, db = mlp.dense_backward(G, X, W)
    assert rel_err(dX, fd_grad(lambda x: loss(x, W, b), X)) < 1e-6
    assert rel_err(dW, fd_grad(lambda w: loss(X, w, b), W)) < 1e-6
    assert rel_err(db, fd_grad(lambda c: loss(X, W, c), b)) < 1e-6


def test_batch_norm_standardizes_and_backward_matches_fd(rng):
    Z = rng.standard_normal((8, 3)) * [1.0, 5.0, 0.1] + [0.0, 3.0, -2.0]
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out, cache = mlp.batch_norm_forward(Z, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), Z.var(axis=0) / (Z.var(axis=0) + 1e-5), rtol=1e-12)
    G = rng.standard_normal((8, 3))

    def loss(Z_, g_, b_):
        return float(np.sum(G * mlp.batch_norm_forward(Z_, g_, b_)[0]))

    _, cache = mlp.batch_norm_forward(Z, gamma, beta)
    dZ, dg, db = mlp.batch_norm_backward(G, cache)
    assert rel_err(dZ, fd_grad(lambda z: loss(z, gamma, beta), Z)) < 1e-6
    assert rel_err(dg, fd_grad(lambda g: loss(Z, g, beta), gamma)) < 1e-6
    assert rel_err(db, fd_grad(lambda c: loss(Z, gamma, c), beta)) < 1e-6


# --- whole network -------------------------------------------------------------------

@pytest.mark.parametrize("activation", sorted(ACT))
def test_depth4_mlp_passes_gradient_check(activation, rng):
    params = mlp.mlp_init([3, 7, 6, 5, 4], activation=activation, rng=rng)
    for k in params:  # nonzero biases, so their gradients are tested too
        if k.startswith("b"):
            params[k] = 0.1 * rng.standard_normal(params[k].shape)
    X, y = rng.standard_normal((9, 3)), rng.integers(0, 4, 9)
    loss, grads = mlp.mlp_loss_and_grads(params, X, y, activation=activation)
    worst, errors = mlp.gradient_check(
        lambda p: mlp.mlp_loss_and_grads(p, X, y, activation=activation)[0], params, grads, per_param=True)
    assert set(errors) == set(params) - {"activation"}  # every array; the activation's name is no parameter
    assert worst < 1e-6, errors


def test_mse_and_weight_decay_gradients(rng):
    params = mlp.mlp_init([2, 5, 3], activation="tanh", rng=rng)
    X, Y = rng.standard_normal((6, 2)), rng.standard_normal((6, 3))
    f = lambda p: mlp.mlp_loss_and_grads(p, X, Y, activation="tanh", loss="mse", weight_decay=0.3)[0]  # noqa: E731
    _, grads = mlp.mlp_loss_and_grads(params, X, Y, activation="tanh", loss="mse", weight_decay=0.3)
    assert mlp.gradient_check(f, params, grads) < 1e-6


def test_gradient_check_detects_a_wrong_gradient(rng):
    params = mlp.mlp_init([2, 4, 3], activation="tanh", rng=rng)
    X, y = rng.standard_normal((5, 2)), rng.integers(0, 3, 5)
    _, grads = mlp.mlp_loss_and_grads(params, X, y, activation="tanh")
    grads["W1"] = grads["W1"].T.reshape(grads["W1"].shape)  # a classic transpose bug
    f = lambda p: mlp.mlp_loss_and_grads(p, X, y, activation="tanh")[0]  # noqa: E731
    worst, errors = mlp.gradient_check(f, params, grads, per_param=True)
    assert errors["W1"] > 0.1 and errors["W2"] < 1e-6 and worst == errors["W1"]


def test_gradient_check_restores_params_and_subsamples(rng):
    x = rng.standard_normal(50)
    x0 = x.copy()
    err = mlp.gradient_check(lambda v: float(np.sum(np.sin(v))), x, np.cos(x), n_entries=10, rng=rng)
    assert err < 1e-8
    np.testing.assert_array_equal(x, x0)


def test_forward_cache_and_manual_composition(rng):
    params = mlp.mlp_init([3, 4, 2], activation="gelu", rng=rng)
    X = rng.standard_normal((5, 3))
    scores, cache = mlp.mlp_forward(params, X, "gelu", return_cache=True)
    manual = mlp.gelu(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    np.testing.assert_allclose(scores, manual)
    assert sorted(cache) == ["A0", "A1", "Z1", "Z2"]


def test_float32_is_preserved(rng):
    params = mlp.mlp_init([3, 4, 2], rng=rng, dtype=np.float32)
    X = rng.standard_normal((5, 3)).astype(np.float32)
    scores, cache = mlp.mlp_forward(params, X, return_cache=True)
    grads = mlp.mlp_backward(params, cache, np.ones_like(scores))
    assert scores.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())


@given(st.integers(1, 6), st.lists(st.integers(1, 6), min_size=2, max_size=5))
def test_shapes_property(n, sizes):
    params = mlp.mlp_init(sizes, rng=np.random.default_rng(0))
    X = np.ones((n, sizes[0]))
    scores, cache = mlp.mlp_forward(params, X, return_cache=True)
    assert scores.shape == (n, sizes[-1])
    grads = mlp.mlp_backward(params, cache, np.ones_like(scores))
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in params.items() if k != "activation"}


@given(st.integers(0, 10_000))
def test_hidden_unit_permutation_and_row_equivariance(seed):
    # Relabelling hidden units (W1 -> W1 P, b1 -> P^T b1, W2 -> P^T W2) leaves the function unchanged,
    # and each row of X is processed independently (permuting rows permutes the scores).
    r = np.random.default_rng(seed)
    params = mlp.mlp_init([3, 6, 2], activation="gelu", rng=r)
    params["b1"] = r.standard_normal(6)
    X = r.standard_normal((5, 3))
    perm, rows = r.permutation(6), r.permutation(5)
    permuted = {"activation": "gelu", "W1": params["W1"][:, perm], "b1": params["b1"][perm], "W2": params["W2"][perm], "b2": params["b2"]}
    scores = mlp.mlp_forward(params, X, "gelu")
    np.testing.assert_allclose(mlp.mlp_forward(permuted, X, "gelu"), scores, atol=1e-12)
    np.testing.assert_allclose(mlp.mlp_forward(params, X[rows], "gelu"), scores[rows], atol=1e-12)


# --- the activation travels with the parameters ------------------------------------------

@pytest.mark.parametrize("activation", sorted(ACT))
def test_params_remember_their_activation(activation, rng):
    params = mlp.mlp_init([3, 5, 4, 2], activation=activation, rng=rng)
    assert params["activation"] == activation
    X = rng.standard_normal((6, 3))
    sigma = ACT[activation][0]
    # Independent reference: the composition written out with the activation's closed form.
    manual = sigma(sigma(X @ params["W1"]) @ params["W2"]) @ params["W3"]
    np.testing.assert_allclose(mlp.mlp_forward(params, X), manual, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mlp.mlp_forward(params, X, activation), manual, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(mlp.predict(params, X), np.argmax(manual, axis=1))


def test_tanh_params_give_tanh_output_not_relu(rng):
    params = mlp.mlp_init([2, 8, 3], activation="tanh", rng=rng)
    X = rng.standard_normal((10, 2))
    tanh_out = np.tanh(X @ params["W1"]) @ params["W2"]
    relu_out = np.maximum(X @ params["W1"], 0) @ params["W2"]
    out = mlp.mlp_forward(params, X)
    np.testing.assert_allclose(out, tanh_out, atol=1e-14)
    assert not np.allclose(out, relu_out)
    # Backward and loss use tanh too: the gradient matches finite differences of the tanh network.
    y = rng.integers(0, 3, 10)
    loss, grads = mlp.mlp_loss_and_grads(params, X, y)
    W1 = params["W1"]

    def loss_of_W1(W):
        scores = np.tanh(X @ W) @ params["W2"] + params["b2"]
        return float(np.mean(np.log(np.exp(scores).sum(axis=1)) - scores[np.arange(10), y]))

    assert np.isclose(loss, loss_of_W1(W1))
    assert rel_err(grads["W1"], fd_grad(loss_of_W1, W1)) < 1e-6


@pytest.mark.parametrize("call", ["forward", "backward", "loss_and_grads", "predict", "train"])
def test_contradicting_activation_is_a_clear_error(call, rng):
    params = mlp.mlp_init([2, 4, 2], activation="tanh", rng=rng)
    X, y = rng.standard_normal((4, 2)), np.array([0, 1, 0, 1])
    scores, cache = mlp.mlp_forward(params, X, return_cache=True)
    calls = {
        "forward": lambda: mlp.mlp_forward(params, X, "relu"),
        "backward": lambda: mlp.mlp_backward(params, cache, scores, "relu"),
        "loss_and_grads": lambda: mlp.mlp_loss_and_grads(params, X, y, activation="relu"),
        "predict": lambda: mlp.predict(params, X, "relu"),
        "train": lambda: mlp.train(params, X, y, activation="relu", epochs=1, progress=False),
    }
    with pytest.raises(ValueError, match=r"activation='relu' contradicts params\['activation'\] == 'tanh'"):
        calls[call]()


def test_hand_made_params_without_activation_default_to_relu(rng):
    params = {"W1": rng.standard_normal((2, 3)), "b1": np.zeros(3), "W2": rng.standard_normal((3, 2)),
              "b2": np.zeros(2)}
    X = rng.standard_normal((4, 2))
    np.testing.assert_allclose(mlp.mlp_forward(params, X), np.maximum(X @ params["W1"], 0) @ params["W2"])
    np.testing.assert_allclose(mlp.mlp_forward(params, X, "tanh"), np.tanh(X @ params["W1"]) @ params["W2"])
    with pytest.raises(ValueError, match=r"params\['activation'\] must be one of"):
        mlp.mlp_forward(dict(params, activation="softplus"), X)


def test_optimizers_gradient_check_and_train_keep_the_activation(rng):
    params = mlp.mlp_init([2, 6, 2], activation="sigmoid", rng=rng)
    X, y = rng.standard_normal((12, 2)), rng.integers(0, 2, 12)
    for opt in (mlp.SGD(lr=0.1), mlp.Momentum(lr=0.1), mlp.Adam(lr=0.1)):
        p = {k: (v if isinstance(v, str) else v.copy()) for k, v in params.items()}
        _, grads = mlp.mlp_loss_and_grads(p, X, y)
        assert "activation" not in grads
        opt.step(p, grads)
        assert p["activation"] == "sigmoid" and not np.allclose(p["W1"], params["W1"])
    f = lambda q: mlp.mlp_loss_and_grads(q, X, y)[0]  # noqa: E731
    _, grads = mlp.mlp_loss_and_grads(params, X, y)
    assert mlp.gradient_check(f, params, grads) < 1e-6
    # A gradient of the relu network (same weights) fails the check of the sigmoid network's loss.
    relu_params = {k: v for k, v in params.items() if k != "activation"}
    _, relu_grads = mlp.mlp_loss_and_grads(relu_params, X, y)
    assert mlp.gradient_check(f, params, relu_grads) > 0.1
    trained, history = mlp.train(params, X, y, epochs=2, rng=rng, progress=False)
    assert trained["activation"] == "sigmoid"
    np.testing.assert_allclose(history["loss"][-1], mlp.mlp_loss_and_grads(trained, X, y)[0])


# --- divergence and held-out data ---------------------------------------------------------------

def test_train_stops_with_a_clear_error_when_the_loss_becomes_inf(rng):
    from lalib._validate import DivergedError

    # Regression targets of size 1e200: the squared error overflows to inf once the scores grow.
    X = rng.standard_normal((16, 2))
    Y = np.full((16, 1), 1e200)
    params = mlp.mlp_init([2, 4, 1], rng=rng)
    with pytest.raises(DivergedError, match=r"mlp.train.*loss became (inf|nan) at epoch \d+"):
        mlp.train(params, X, Y, loss="mse", optimizer=mlp.SGD(lr=1.0), epochs=50, batch_size=16,
                  rng=rng, progress=False)


def test_train_divergence_names_the_epoch_it_happened_in(rng):
    from lalib._validate import DivergedError

    # A finite start, then a step size far too large: the loss must be finite at epoch 0 and blow up later.
    X = rng.standard_normal((32, 3))
    Y = X @ rng.standard_normal((3, 2))
    params = mlp.mlp_init([3, 16, 2], rng=rng)
    seen = []
    with pytest.raises(DivergedError) as info:
        mlp.train(params, X, Y, loss="mse", optimizer=mlp.SGD(lr=50.0), epochs=200, batch_size=8, rng=rng,
                  progress=False, callback=lambda e, p, h: seen.append(e))
    epoch = int(str(info.value).split("at epoch ")[1].split(";")[0])
    assert epoch >= 1 and epoch == (seen[-1] + 1 if seen else 1)
    assert "learning rate" in str(info.value)


def test_train_reports_held_out_accuracy(rng):
    X, y = datasets.spirals(60, n_classes=3, noise=0.2, turns=1.0, rng=rng)
    X_val, y_val = datasets.spirals(40, n_classes=3, noise=0.2, turns=1.0, rng=rng)
    trained, h = mlp.train(mlp.mlp_init([2, 32, 32, 3], rng=rng), X, y, epochs=40, rng=rng, progress=False,
                           validation=(X_val, y_val))
    assert len(h["val_loss"]) == len(h["val_accuracy"]) == 41
    assert h["val_accuracy"][-1] == mlp.accuracy(mlp.mlp_forward(trained, X_val), y_val)
    assert np.isclose(h["val_loss"][-1], mlp.softmax_cross_entropy(mlp.mlp_forward(trained, X_val), y_val)[0])
    with pytest.raises(TypeError, match="validation must be a pair"):
        mlp.train(mlp.mlp_init([2, 3, 3], rng=rng), X, y, validation=X_val, progress=False)
    with pytest.raises(ValueError, match=r"X_val"):
        mlp.train(mlp.mlp_init([2, 3, 3], rng=rng), X, y, validation=(X_val[:, :1], y_val), progress=False)


# --- batch normalization: training mode couples the batch, inference mode is affine -----------

def test_batch_norm_training_mode_is_not_affine_and_couples_rows(rng):
    Z = rng.standard_normal((8, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out = mlp.batch_norm_forward(Z, gamma, beta, eps=1e-12)[0]
    # Not affine: doubling the batch leaves the output unchanged, which an affine map Z M + 1 c^T does
    # only when Z M = 0 -- and then out would be the same row c^T everywhere, which it is not.
    np.testing.assert_allclose(mlp.batch_norm_forward(2 * Z, gamma, beta, eps=1e-12)[0], out, atol=1e-10)
    assert not np.allclose(out, out[0])
    # Coupled: changing row 0 changes the output of row 1.
    Z2 = Z.copy()
    Z2[0] += 5.0
    assert not np.allclose(mlp.batch_norm_forward(Z2, gamma, beta)[0][1], out[1])


def test_batch_norm_running_statistics_and_inference_mode(rng):
    d = 3
    mean_true, std_true = np.array([4.0, -2.0, 0.5]), np.array([3.0, 0.5, 1.0])
    running = {"mean": np.zeros(d), "var": np.ones(d)}
    for _ in range(400):
        batch = mean_true + std_true * rng.standard_normal((64, d))
        mlp.batch_norm_forward(batch, np.ones(d), np.zeros(d), running=running, momentum=0.05)
    np.testing.assert_allclose(running["mean"], mean_true, atol=0.15)
    np.testing.assert_allclose(np.sqrt(running["var"]), std_true, rtol=0.1)
    gamma, beta = rng.standard_normal(d), rng.standard_normal(d)
    Z = mean_true + std_true * rng.standard_normal((5, d))
    out = mlp.batch_norm_inference(Z, gamma, beta, running["mean"], running["var"])
    # The closed form, and the affine structure: each row alone, Z diag(s) + 1 c^T.
    s = gamma / np.sqrt(running["var"] + 1e-5)
    np.testing.assert_allclose(out, (Z - running["mean"]) * s + beta, atol=1e-12)
    np.testing.assert_allclose(mlp.batch_norm_inference(Z[2:3], gamma, beta, running["mean"], running["var"]),
                               out[2:3], atol=1e-14)
    f = lambda M: mlp.batch_norm_inference(M, gamma, beta, running["mean"], running["var"])  # noqa: E731
    Z2 = rng.standard_normal((5, d))
    np.testing.assert_allclose(f(0.3 * Z + 0.7 * Z2), 0.3 * f(Z) + 0.7 * f(Z2), atol=1e-12)
    # On a large batch from the same distribution, inference ≈ training mode.
    big = mean_true + std_true * rng.standard_normal((20000, d))
    assert np.mean(np.abs(f(big) - mlp.batch_norm_forward(big, gamma, beta)[0])) < 0.1 * np.abs(gamma).max()


def test_batch_norm_running_update_formula(rng):
    Z = rng.standard_normal((6, 2))
    running = {"mean": np.array([1.0, 2.0]), "var": np.array([3.0, 4.0])}
    mlp.batch_norm_forward(Z, np.ones(2), np.zeros(2), running=running, momentum=0.25)
    np.testing.assert_allclose(running["mean"], 0.75 * np.array([1.0, 2.0]) + 0.25 * Z.mean(axis=0))
    np.testing.assert_allclose(running["var"], 0.75 * np.array([3.0, 4.0]) + 0.25 * Z.var(axis=0, ddof=1))


def test_batch_norm_inference_bad_input():
    with pytest.raises(ValueError, match=r"running_mean must have shape \(2,\)"):
        mlp.batch_norm_inference(np.zeros((3, 2)), np.ones(2), np.zeros(2), np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="running_var must be >= 0"):
        mlp.batch_norm_inference(np.zeros((3, 2)), np.ones(2), np.zeros(2), np.zeros(2), -np.ones(2))
    with pytest.raises(ValueError, match="finite"):
        mlp.batch_norm_inference(np.full((1, 2), np.nan), np.ones(2), np.zeros(2), np.zeros(2), np.ones(2))
    with pytest.raises(TypeError, match="running must be a dict"):
        mlp.batch_norm_forward(np.zeros((3, 2)), np.ones(2), np.zeros(2), running=np.zeros(2))
    with pytest.raises(ValueError, match=r"running\['var'\] must have shape"):
        mlp.batch_norm_forward(np.zeros((3, 2)), np.ones(2), np.zeros(2),
                               running={"mean": np.zeros(2), "var": np.ones(3)})
    with pytest.raises(ValueError, match="momentum"):
        mlp.batch_norm_forward(np.zeros((3, 2)), np.ones(2), np.zeros(2), momentum=1.5)


# --- initialization ------------------------------------------------------------------

@pytest.mark.parametrize("activation, scheme", [("relu", "he"), ("tanh", "xavier"), ("relu", "orthogonal")])
def test_init_preserves_activation_variance_over_20_layers(activation, scheme, rng):
    params = mlp.mlp_init([256] * 21, activation=activation, rng=rng, init=scheme)
    sigma = mlp.ACTIVATIONS[activation][0]
    A = rng.standard_normal((500, 256))
    variances = []
    for l in range(1, 21):
        A = sigma(A @ params[f"W{l}"])
        variances.append(A.var())
    assert max(variances) / min(variances) < 2, np.round(variances, 3)


def test_small_fixed_init_vanishes(rng):
    # The contrast that makes the test above meaningful: a fixed N(0, 0.01²) scale collapses.
    params = mlp.mlp_init([256] * 21, activation="relu", rng=rng, init="normal")
    A = rng.standard_normal((100, 256))
    v1 = None
    for l in range(1, 21):
        A = mlp.relu(A @ params[f"W{l}"])
        v1 = A.var() if v1 is None else v1
    assert A.var() / v1 < 1e-10


def test_init_weight_statistics_and_orthogonality(rng):
    W = mlp.init_weight(400, 300, "he", rng=rng)
    assert W.var() == pytest.approx(2 / 400, rel=0.05)
    W = mlp.init_weight(400, 200, "xavier", rng=rng)
    assert W.var() == pytest.approx(2 / 600, rel=0.05)
    for shape in [(6, 4), (4, 6)]:
        Q = mlp.init_weight(*shape, "orthogonal", gain=2.0, rng=rng)
        np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), 2.0)


# --- optimizers -------------------------------------------------------------------------

def test_sgd_and_momentum_updates():
    p = {"w": np.array([1.0, 2.0])}
    mlp.SGD(lr=0.1).step(p, {"w": np.array([1.0, -1.0])})
    np.testing.assert_allclose(p["w"], [0.9, 2.1])
    p1, p2 = {"w": np.zeros(2)}, {"w": np.zeros(2)}
    a, b = mlp.SGD(lr=0.1, momentum=0.9), mlp.Momentum(lr=0.1, beta=0.9)
    for g in ([1.0, 0.0], [1.0, 2.0], [0.5, -1.0]):
        a.step(p1, {"w": np.array(g)})
        b.step(p2, {"w": np.array(g)})
    # closed form: v1 = g1, v2 = .9 g1 + g2, v3 = .81 g1 + .9 g2 + g3; w = -0.1 (v1 + v2 + v3)
    g1, g2, g3 = np.array([1.0, 0.0]), np.array([1.0, 2.0]), np.array([0.5, -1.0])
    want = -0.1 * (g1 + (0.9 * g1 + g2) + (0.81 * g1 + 0.9 * g2 + g3))
    np.testing.assert_allclose(p1["w"], want)
    np.testing.assert_allclose(p2["w"], want)


def test_adam_matches_reference_loop():
    rng = np.random.default_rng(3)
    gs = rng.standard_normal((5, 3))
    p = {"w": np.ones(3), "b": np.zeros(2)}
    opt = mlp.Adam(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-8)
    w, m, v = np.ones(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(gs, start=1):
        opt.step(p, {"w": g})  # "b" has no gradient: stays untouched
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g ** 2
        w = w - 0.01 * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.99 ** t)) + 1e-8)
    np.testing.assert_allclose(p["w"], w, rtol=1e-12)
    np.testing.assert_array_equal(p["b"], 0)
    assert set(opt.state) == {"w"}


@pytest.mark.parametrize("opt", [mlp.SGD(lr=0.1), mlp.Momentum(lr=0.05), mlp.Adam(lr=0.1)])
def test_optimizers_minimize_a_quadratic(opt):
    A = np.diag([1.0, 10.0])
    p = {"x": np.array([1.0, 1.0])}
    for _ in range(300):
        opt.step(p, {"x": A @ p["x"]})
    assert np.linalg.norm(p["x"]) < 1e-2


def test_optimizer_state_is_per_key_and_float32_kept():
    p = {"a": np.ones(2, dtype=np.float32), "b": np.ones((2, 2))}
    opt = mlp.Adam(lr=0.1)
    opt.step(p, {"a": np.ones(2, dtype=np.float32)})
    assert set(opt.state) == {"a"}
    opt.step(p, {"a": np.ones(2, dtype=np.float32), "b": np.ones((2, 2))})
    assert set(opt.state) == {"a", "b"} and opt.state["b"][2] == 1 and opt.state["a"][2] == 2
    assert p["a"].dtype == np.float32


# --- training ------------------------------------------------------------------------------

def test_train_reaches_97_percent_on_three_spirals():
    rng = np.random.default_rng(0)
    X, y = datasets.spirals(100, n_classes=3, noise=0.2, turns=1.0, rng=rng)
    params = mlp.mlp_init([2, 64, 64, 3], rng=rng)
    trained, history = mlp.train(params, X, y, optimizer=mlp.Adam(lr=0.01), epochs=120, batch_size=32,
                                 rng=rng, progress=False)
    assert history["accuracy"][-1] >= 0.97
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert len(history["loss"]) == 121
    assert mlp.accuracy(mlp.mlp_forward(trained, X), y) == history["accuracy"][-1]
    assert not np.allclose(trained["W1"], params["W1"])  # trained a copy; the input is unchanged


def test_train_is_reproducible_and_calls_back(rng):
    X, y = datasets.two_moons(30, rng=rng)
    seen = []
    runs = [mlp.train(mlp.mlp_init([2, 8, 2], rng=np.random.default_rng(1)), X, y, epochs=3,
                      rng=np.random.default_rng(2), progress=False,
                      callback=lambda e, p, h: seen.append((e, len(h["loss"]))))
            for _ in range(2)]
    for k in runs[0][0]:
        np.testing.assert_array_equal(runs[0][0][k], runs[1][0][k])
    assert seen[:3] == [(1, 2), (2, 3), (3, 4)]


def test_train_with_mse_has_no_accuracy(rng):
    X = rng.standard_normal((20, 2))
    Y = X @ np.array([[1.0], [-2.0]])
    _, h = mlp.train(mlp.mlp_init([2, 1], rng=rng), X, Y, loss="mse", epochs=300,
                     optimizer=mlp.SGD(lr=0.1), batch_size=20, rng=rng, progress=False)
    assert "accuracy" not in h and h["loss"][-1] < 1e-3


# --- data -----------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [2, 3, 5])
def test_spirals_shapes_and_seeding(k):
    X, y = datasets.spirals(20, n_classes=k, rng=np.random.default_rng(0))
    X2, _ = datasets.spirals(20, n_classes=k, rng=np.random.default_rng(0))
    assert X.shape == (20 * k, 2) and np.bincount(y).tolist() == [20] * k
    np.testing.assert_array_equal(X, X2)
    assert np.all(np.linalg.norm(X, axis=1) <= 1 + 1e-12)  # radius is exact; noise is on the angle
    X_noisy, _ = datasets.spirals(20, n_classes=k, noise=5.0, rng=np.random.default_rng(1))
    np.testing.assert_allclose(np.linalg.norm(X_noisy, axis=1), np.tile(np.linspace(0.05, 1.0, 20), k))


def test_two_moons_without_noise_lie_on_circles(rng):
    X, y = datasets.two_moons(25, noise=0.0, rng=rng)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1, 0.5], axis=1), 1)


# --- bad input: every public function -----------------------------------------------------------

@pytest.mark.parametrize("fn", [mlp.relu, mlp.relu_grad, mlp.tanh, mlp.tanh_grad, mlp.sigmoid,
                                mlp.sigmoid_grad, mlp.gelu, mlp.gelu_grad, mlp.softmax, mlp.log_softmax])
def test_elementwise_bad_input(fn):
    with pytest.raises(ValueError, match="finite"):
        fn(np.array([1.0, np.nan]))
    with pytest.raises(TypeError, match="real numbers"):
        fn(np.array(["a"]))


def test_softmax_bad_input():
    with pytest.raises(ValueError, match="at least one dimension"):
        mlp.softmax(1.0)
    with pytest.raises(ValueError, match="empty"):
        mlp.softmax(np.zeros((0,)))


def test_losses_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        mlp.mse_loss(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="y must be < 3"):
        mlp.softmax_cross_entropy(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match=">= 0"):
        mlp.softmax_cross_entropy(np.zeros((2, 3)), [0, -1])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        mlp.softmax_cross_entropy(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(TypeError, match="integers"):
        mlp.softmax_cross_entropy(np.zeros((2, 3)), [0.0, 1.0])
    with pytest.raises(ValueError, match="2-D"):
        mlp.softmax_cross_entropy(np.zeros(3), [0])
    with pytest.raises(ValueError, match="finite"):
        mlp.softmax_cross_entropy(np.array([[np.inf, 0.0]]), [0])


def test_layers_bad_input():
    with pytest.raises(ValueError, match="W must have shape"):
        mlp.dense_forward(np.zeros((2, 3)), np.zeros((4, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="b must have shape"):
        mlp.dense_forward(np.zeros((2, 3)), np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="delta must have shape"):
        mlp.dense_backward(np.zeros((2, 5)), np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        mlp.batch_norm_forward(np.zeros((1, 3)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="gamma must have shape"):
        mlp.batch_norm_forward(np.zeros((4, 3)), np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="eps"):
        mlp.batch_norm_forward(np.zeros((4, 3)), np.ones(3), np.zeros(3), eps=0.0)
    with pytest.raises(TypeError, match="cache"):
        mlp.batch_norm_backward(np.zeros((4, 3)), {})
    _, cache = mlp.batch_norm_forward(np.eye(3), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="dout must have shape"):
        mlp.batch_norm_backward(np.zeros((4, 3)), cache)


def test_init_bad_input():
    with pytest.raises(ValueError, match="at least 2 widths"):
        mlp.mlp_init([3])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be a positive integer"):
        mlp.mlp_init([3, 0, 2])
    with pytest.raises(TypeError, match="sizes"):
        mlp.mlp_init(3)
    with pytest.raises(ValueError, match="activation"):
        mlp.mlp_init([2, 3], activation="swish")
    with pytest.raises(ValueError, match="init"):
        mlp.mlp_init([2, 3], init="zeros")
    with pytest.raises(TypeError, match="rng"):
        mlp.mlp_init([2, 3], rng=0)
    with pytest.raises(ValueError, match="scheme"):
        mlp.init_weight(2, 3, "uniform")
    with pytest.raises(TypeError, match="dtype"):
        mlp.init_weight(2, 3, dtype=np.int64)


def test_network_bad_input(rng):
    params = mlp.mlp_init([3, 4, 2], rng=rng)
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 3\)"):
        mlp.mlp_forward(params, np.zeros((5, 4)))
    bad = dict(params, W2=np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"params\['W2'\] must have 4 rows"):
        mlp.mlp_forward(bad, X)
    with pytest.raises(ValueError, match=r"params\['b1'\] must have shape"):
        mlp.mlp_forward(dict(params, b1=np.zeros(3)), X)
    with pytest.raises(ValueError, match="exactly the keys"):
        mlp.mlp_forward({k: v for k, v in params.items() if k != "b2"}, X)
    with pytest.raises(TypeError, match="dict of arrays"):
        mlp.mlp_forward([params["W1"]], X)
    with pytest.raises(ValueError, match="finite"):
        mlp.mlp_forward(params, np.full((5, 3), np.nan))
    with pytest.raises(ValueError, match="activation"):
        mlp.mlp_forward(params, X, activation="softplus")
    scores, cache = mlp.mlp_forward(params, X, return_cache=True)
    with pytest.raises(ValueError, match="dscores must have shape"):
        mlp.mlp_backward(params, cache, np.zeros((5, 3)))
    with pytest.raises(TypeError, match="cache"):
        mlp.mlp_backward(params, {"A0": X}, scores)
    with pytest.raises(ValueError, match="y must be < 2"):
        mlp.mlp_loss_and_grads(params, X, [0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match="loss"):
        mlp.mlp_loss_and_grads(params, X, [0] * 5, loss="hinge")
    with pytest.raises(ValueError, match="weight_decay"):
        mlp.mlp_loss_and_grads(params, X, [0] * 5, weight_decay=-1.0)
    with pytest.raises(ValueError, match="X must be 2-D"):
        mlp.predict(params, np.zeros(3))
    with pytest.raises(ValueError, match=r"y must have shape \(2,\)"):
        mlp.accuracy(np.zeros((2, 2)), [0])


def test_gradient_check_bad_input():
    x = np.ones(3)
    with pytest.raises(TypeError, match="f must be callable"):
        mlp.gradient_check(None, x, x)
    with pytest.raises(ValueError, match="same shape"):
        mlp.gradient_check(np.sum, x, np.ones(2))
    with pytest.raises(TypeError, match="float64"):
        mlp.gradient_check(np.sum, x.astype(np.float32), x)
    with pytest.raises(ValueError, match="keys"):
        mlp.gradient_check(lambda p: 0.0, {"a": x}, {"b": x})
    with pytest.raises(ValueError, match="eps"):
        mlp.gradient_check(np.sum, x, x, eps=0.0)
    with pytest.raises(ValueError, match="finite"):
        mlp.gradient_check(np.sum, x, np.array([1.0, np.nan, 1.0]))
    with pytest.raises(TypeError, match="f must be callable"):
        mlp.numerical_jacobian(3, x)
    with pytest.raises(ValueError, match="empty"):
        mlp.numerical_jacobian(np.sin, np.zeros(0))


@pytest.mark.parametrize("cls", [mlp.SGD, mlp.Momentum, mlp.Adam])
@pytest.mark.parametrize("lr", [0.0, -0.1])
def test_optimizers_reject_nonpositive_lr(cls, lr):
    with pytest.raises(ValueError, match="lr must be > 0"):
        cls(lr=lr)


def test_optimizers_bad_input():
    with pytest.raises(ValueError, match="momentum"):
        mlp.SGD(lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="beta"):
        mlp.Momentum(lr=0.1, beta=-0.5)
    with pytest.raises(ValueError, match="beta2"):
        mlp.Adam(lr=0.1, beta2=1.0)
    with pytest.raises(ValueError, match="eps"):
        mlp.Adam(lr=0.1, eps=0.0)
    opt = mlp.Adam(lr=0.1)
    with pytest.raises(ValueError, match="key 'c'"):
        opt.step({"w": np.zeros(2)}, {"c": np.zeros(2)})
    with pytest.raises(ValueError, match=r"grads\['w'\] must have shape"):
        opt.step({"w": np.zeros(2)}, {"w": np.zeros(3)})
    with pytest.raises(ValueError, match="finite"):
        opt.step({"w": np.zeros(2)}, {"w": np.array([np.nan, 0.0])})
    with pytest.raises(TypeError, match="dicts"):
        opt.step([np.zeros(2)], [np.zeros(2)])
    assert opt.state == {}  # nothing was created by the refused steps


def test_train_bad_input(rng):
    params = mlp.mlp_init([2, 3, 2], rng=rng)
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="y must be < 2"):
        mlp.train(params, X, [0, 1, 2, 0], progress=False)
    with pytest.raises(ValueError, match="lr must be > 0"):
        mlp.train(params, X, y, optimizer=mlp.SGD(lr=0.0), progress=False)
    with pytest.raises(TypeError, match="optimizer"):
        mlp.train(params, X, y, optimizer="adam", progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        mlp.train(params, X, y, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        mlp.train(params, X, y, epochs=-1, progress=False)
    with pytest.raises(TypeError, match="callback"):
        mlp.train(params, X, y, callback=1, progress=False)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        mlp.train(params, np.zeros((4, 3)), y, progress=False)


def test_datasets_bad_input():
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        datasets.spirals(10, n_classes=1)
    with pytest.raises(ValueError, match="n_per_class"):
        datasets.spirals(0)
    with pytest.raises(ValueError, match="noise"):
        datasets.two_moons(10, noise=-0.1)
    with pytest.raises(ValueError, match="turns"):
        datasets.spirals(10, turns=0.0)
    with pytest.raises(TypeError, match="rng"):
        datasets.two_moons(10, rng=1)


def test_train_passes_tqdm_disable_to_the_progress_bar(rng, monkeypatch):
    # tqdm.notebook ignores the TQDM_DISABLE variable, so train must pass it on explicitly.
    import tqdm.auto

    seen = []

    class FakeBar:
        def __init__(self, iterable, **kwargs):
            self.iterable = iterable
            seen.append(kwargs)

        def __iter__(self):
            return iter(self.iterable)

        def set_postfix(self, **kwargs):
            pass

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", FakeBar)
    X, y = datasets.two_moons(10, rng=rng)
    for value, quiet in [("1", True), ("0", False)]:
        monkeypatch.setenv("TQDM_DISABLE", value)
        _, h = mlp.train(mlp.mlp_init([2, 4, 2], rng=rng), X, y, epochs=2, rng=rng, progress=True)
        assert len(h["loss"]) == 3 and seen[-1]["disable"] is quiet
