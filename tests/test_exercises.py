"""The checker pattern: hidden cases, a hint on failure, never an exception."""

import numpy as np

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
