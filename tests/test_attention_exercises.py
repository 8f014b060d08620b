"""Chapter 3 exercise checkers: right answers pass, typical mistakes fail with a hint, stubs do not raise."""

import numpy as np

from lalib import attention as att
from lalib import exercises


def stub(*args):
    raise NotImplementedError


def test_stable_softmax_checker(capsys):
    assert exercises.check_stable_softmax(att.softmax).passed

    def naive(x):
        e = np.exp(x)
        return e / e.sum(axis=-1, keepdims=True)

    with np.errstate(over="ignore", invalid="ignore"):
        assert not exercises.check_stable_softmax(naive).passed
    assert "maximum" in capsys.readouterr().out
    assert not exercises.check_stable_softmax(stub).passed


def test_masked_attention_checker():
    assert exercises.check_masked_attention(lambda Q, K, V, m: att.scaled_dot_product_attention(Q, K, V, mask=m))
    unscaled = lambda Q, K, V, m: att.scaled_dot_product_attention(Q * np.sqrt(Q.shape[1]), K, V, mask=m)  # noqa: E731
    assert not exercises.check_masked_attention(unscaled).passed
    ignores_mask = lambda Q, K, V, m: att.scaled_dot_product_attention(Q, K, V)  # noqa: E731
    assert not exercises.check_masked_attention(ignores_mask).passed
    assert not exercises.check_masked_attention(stub).passed


def test_causal_linear_attention_checker():
    assert exercises.check_causal_linear_attention(lambda Q, K, V: att.linear_attention(Q, K, V, causal=True))
    not_causal = lambda Q, K, V: att.linear_attention(Q, K, V)  # noqa: E731
    assert not exercises.check_causal_linear_attention(not_causal).passed
    assert not exercises.check_causal_linear_attention(stub).passed
