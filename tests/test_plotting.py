"""The shared figure helpers of lalib.plotting do what their docstrings promise."""

import warnings

import numpy as np

from lalib import plotting


def _lines(fig):
    return {line.get_label(): line for line in fig.axes[0].get_lines()}


def test_line_plot_x_none_means_the_index_and_a_tuple_brings_its_own_x():
    fig = plotting.line_plot(None, {"a": [4.0, 2.0, 1.0], "b": ([10, 20], [1.0, 1.0])})
    lines = _lines(fig)
    assert list(lines["a"].get_xdata()) == [0, 1, 2]
    assert list(lines["b"].get_xdata()) == [10, 20]


def test_line_plot_scales_reference_lines_and_legend():
    fig = plotting.line_plot([1, 10, 100], {"e": [1.0, 0.1, 0.01]}, logx=True, logy=True,
                             hline=(0.05, "tolerance"), marks=[10], ylim=(1e-3, 2), xlabel="k", ylabel="error")
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("k", "error")
    assert np.allclose(ax.get_ylim(), (1e-3, 2))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["e", "tolerance"]
    assert len(ax.get_lines()) == 3  # the curve, the hline, the mark


def test_line_plot_styles_and_defaults():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a dict style must not clash with a default format string
        fig = plotting.line_plot(None, {"short": np.ones(5), "long": np.ones(100), "guide": np.ones(5),
                                        "tol": np.ones(5)},
                                 styles={"guide": "k:", "tol": {"ls": "--", "color": "0.5"}})
    lines = _lines(fig)
    assert lines["short"].get_marker() == "o"  # few points: show the samples
    assert lines["long"].get_marker() in ("None", "", None)
    assert lines["guide"].get_linestyle() == ":"
    assert lines["tol"].get_linestyle() == "--"
