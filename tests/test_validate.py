"""The shared input checks: clear messages naming the argument, the expectation and the value."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from lalib import _validate as v


class TestAsFloatArray:
    def test_ints_become_float64(self):
        assert v.as_float_array([[1, 2]], "A").dtype == np.float64

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_floats_are_preserved(self, dtype):
        assert v.as_float_array(np.ones(3, dtype=dtype), "x").dtype == dtype

    def test_float16_computes_in_float64(self):
        assert v.as_float_array(np.ones(3, dtype=np.float16), "x").dtype == np.float64

    @pytest.mark.parametrize("bad", [np.array([1j]), np.array(["a"]), np.array([object()], dtype=object)])
    def test_non_real_is_a_type_error(self, bad):
        with pytest.raises(TypeError, match="x must hold real numbers"):
            v.as_float_array(bad, "x")

    def test_ndim_message(self):
        with pytest.raises(ValueError, match=r"A must be 2-D; got 1-D with shape \(3,\)"):
            v.as_float_array(np.ones(3), "A", ndim=2)

    def test_shape_message_names_free_dims_and_reason(self):
        with pytest.raises(ValueError, match=r"K must have shape \(n, 64\) \(columns == Q.shape\[1\]\); got \(128, 32\)"):
            v.check_shape(np.zeros((128, 32)), "K", (None, 64), "columns == Q.shape[1]")

    def test_empty_is_refused_unless_allowed(self):
        with pytest.raises(ValueError, match=r"X must not be empty; got shape \(0, 3\)"):
            v.as_float_array(np.zeros((0, 3)), "X")
        assert v.as_float_array(np.zeros((0, 3)), "X", allow_empty=True).shape == (0, 3)

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite_is_refused(self, bad):
        with pytest.raises(ValueError, match="x must be finite; got 1 NaN or infinite entry"):
            v.as_float_array([1.0, bad], "x")

    def test_sparse_is_refused_for_dense_arguments(self):
        with pytest.raises(TypeError, match="A must be a dense array"):
            v.as_float_array(sp.eye(3), "A")

    def test_ragged_is_a_type_error(self):
        with pytest.raises((TypeError, ValueError), match="x"):
            v.as_float_array([[1, 2], [3]], "x")


class TestIntArray:
    def test_range_is_checked(self):
        with pytest.raises(ValueError, match="ids must be < 5; got a value 7"):
            v.as_int_array([0, 7], "ids", high=5)
        with pytest.raises(ValueError, match="ids must be >= 0; got a value -1"):
            v.as_int_array([-1, 2], "ids", low=0)

    def test_floats_are_refused(self):
        with pytest.raises(TypeError, match="ids must hold integers; got dtype float64"):
            v.as_int_array([1.0, 2.0], "ids")

    def test_bools_are_refused(self):
        with pytest.raises(TypeError, match="ids must hold integers"):
            v.as_int_array([True, False], "ids")

    @given(st.lists(st.integers(0, 9), min_size=1))
    def test_valid_ids_round_trip(self, ids):
        np.testing.assert_array_equal(v.as_int_array(ids, "ids", low=0, high=10), ids)


class TestScalars:
    @pytest.mark.parametrize("bad", [0, -3])
    def test_positive_int_rejects_non_positive(self, bad):
        with pytest.raises(ValueError, match=f"k must be a positive integer; got {bad}"):
            v.check_positive_int(bad, "k")

    @pytest.mark.parametrize("bad", [2.0, "3", True, None])
    def test_positive_int_rejects_non_integers(self, bad):
        with pytest.raises(TypeError, match="k must be an integer"):
            v.check_positive_int(bad, "k")

    def test_positive_int_maximum_with_reason(self):
        with pytest.raises(ValueError, match=r"k must be at most 4 \(min\(A.shape\)\); got 5"):
            v.check_positive_int(5, "k", maximum=4, why="min(A.shape)")

    def test_numpy_integers_are_integers(self):
        assert v.check_positive_int(np.int64(3), "k") == 3

    def test_nonneg_int(self):
        assert v.check_nonneg_int(0, "q") == 0
        with pytest.raises(ValueError, match="q must be a non-negative integer; got -1"):
            v.check_nonneg_int(-1, "q")

    @pytest.mark.parametrize("bad", [0.0, -1e-3, np.nan, np.inf])
    def test_positive_float(self, bad):
        with pytest.raises(ValueError, match="lr must be"):
            v.check_positive_float(bad, "lr")

    def test_positive_float_allow_zero(self):
        assert v.check_positive_float(0, "weight_decay", allow_zero=True) == 0.0

    @pytest.mark.parametrize("bad", [-0.1, 1.0, 2])
    def test_probability(self, bad):
        with pytest.raises(ValueError, match=r"dropout must lie in \[0, 1\)"):
            v.check_probability(bad, "dropout")

    def test_choice(self):
        with pytest.raises(ValueError, match="kind must be one of 'a', 'b'; got 'c'"):
            v.check_choice("c", "kind", ["a", "b"])


class TestRng:
    def test_none_gives_a_generator(self):
        assert isinstance(v.check_rng(None), np.random.Generator)

    def test_generator_is_returned_as_is(self, rng):
        assert v.check_rng(rng) is rng

    @pytest.mark.parametrize("bad", [0, np.random.RandomState(0)])
    def test_seeds_and_legacy_states_are_refused(self, bad):
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
            v.check_rng(bad)


class TestMatrices:
    def test_square(self):
        with pytest.raises(ValueError, match=r"A must be a square matrix \(n, n\); got shape \(2, 3\)"):
            v.check_square(np.zeros((2, 3)), "A")

    def test_same_shape(self):
        with pytest.raises(ValueError, match=r"x and y must have the same shape; got \(2,\) and \(3,\)"):
            v.check_same_shape(np.zeros(2), np.zeros(3), "x", "y")

    def test_sparse_stays_sparse(self):
        A = v.as_sparse_or_dense(sp.random(50, 50, density=0.1, random_state=0), "A", square=True)
        assert sp.issparse(A) and A.format == "csr"

    def test_sparse_nan_is_refused(self):
        A = sp.csr_array(np.array([[1.0, np.nan], [0.0, 1.0]]))
        with pytest.raises(ValueError, match="A must be finite"):
            v.as_sparse_or_dense(A, "A")

    def test_callable(self):
        with pytest.raises(TypeError, match="f must be callable; got int"):
            v.check_callable(3, "f")


def test_check_finite_loss_names_the_epoch():
    from lalib._validate import DivergedError, check_finite_loss

    assert check_finite_loss(1.5, 3, "train") == 1.5
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(DivergedError, match=r"train: the loss became .* at epoch 7.*lower the learning rate"):
            check_finite_loss(bad, 7, "train", hint="lower the learning rate")
