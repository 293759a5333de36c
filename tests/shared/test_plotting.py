"""Plotting helpers: the across-seed band (median and min-max) and the network diagram."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from companion.embedding_depth import lifting  # noqa: E402
from companion.plotting import band, network_diagram, stacked_data  # noqa: E402

X = np.array([0.0, 1.0, 2.0, 3.0])
CURVES = np.array([[1.0, 5.0, 2.0, 7.0],
                   [3.0, 4.0, 9.0, 1.0],
                   [2.0, 6.0, 4.0, 0.5],
                   [8.0, 0.0, 3.0, 2.0]])  # an even number of seeds: median averages two


def plotted(curves):
    fig, ax = plt.subplots()
    result = band(ax, X, curves, label="runs", color="C2", ls="--")
    (line,) = ax.get_lines()
    (fill,) = ax.collections
    vertices = fill.get_paths()[0].vertices
    plt.close(fig)
    return result, line, vertices


def test_line_is_the_median_and_fill_the_min_max():
    result, line, vertices = plotted(CURVES)
    median = np.array([2.5, 4.5, 3.5, 1.5])  # by hand: middle pair of each sorted column
    np.testing.assert_array_equal(result.median, median)
    np.testing.assert_array_equal(result.median, np.median(CURVES, axis=0))
    np.testing.assert_array_equal(line.get_xdata(), X)
    np.testing.assert_array_equal(line.get_ydata(), median)
    assert line.get_label() == "runs" and line.get_linestyle() == "--"
    for x, low, high in zip(X, [1.0, 0.0, 2.0, 0.5], [8.0, 6.0, 9.0, 7.0]):
        ys = vertices[vertices[:, 0] == x, 1]
        assert ys.min() == low and ys.max() == high
    np.testing.assert_array_equal(result.low, CURVES.min(axis=0))
    np.testing.assert_array_equal(result.high, CURVES.max(axis=0))


def test_one_seed_is_a_line_with_an_empty_band():
    result, line, vertices = plotted(CURVES[:1])
    np.testing.assert_array_equal(line.get_ydata(), CURVES[0])
    np.testing.assert_array_equal(result.low, result.high)
    assert set(vertices[:, 1]) <= set(CURVES[0])


def test_data_names_the_three_arrays():
    result, _, _ = plotted(CURVES)
    data = result.data("loss")
    assert sorted(data) == ["loss_max", "loss_median", "loss_min"]
    np.testing.assert_array_equal(data["loss_min"], CURVES.min(axis=0))


def test_stacked_data_has_one_row_per_band():
    first, _, _ = plotted(CURVES)
    second, _, _ = plotted(CURVES[:2])
    data = stacked_data([first, second], "d")
    np.testing.assert_array_equal(data["d_median"], [np.median(CURVES, axis=0),
                                                     CURVES[:2].mean(axis=0)])
    np.testing.assert_array_equal(data["d_max"][1], CURVES[:2].max(axis=0))


def test_network_diagram_of_a_lift_draws_one_edge_per_nonzero_weight():
    """A [2,3,1] net lifted at q=1 with an identity signal matrix and two constant neurons:
    3 edges into the inserted layer (the identity), none into the constant neurons."""
    net = lifting.MLP((2, 3, 1), "elu")
    theta = net.init(torch.Generator().manual_seed(0))
    x = torch.rand(10, 2, dtype=torch.float64)
    lift = lifting.critical_lift(net, theta, x, 1, torch.eye(3, dtype=torch.float64),
                                 eps=(0.3, -0.3))
    roles = lifting.neuron_roles(lift.net, lift)
    assert roles == [["input"] * 2, ["hidden"] * 3, ["signal"] * 3 + ["constant"] * 2,
                     ["output"]]
    assert lifting.neuron_roles(net) == [["input"] * 2, ["hidden"] * 3, ["output"]]
    fig, ax = plt.subplots()
    drawn = network_diagram(ax, roles, [w.numpy() for w, _ in lift.net.unpack(lift.theta)], "t")
    plt.close(fig)
    assert drawn["widths"].tolist() == [2, 3, 5, 1]
    assert drawn["edges"].tolist() == [6, 3, 5]
    assert drawn["roles"].tolist() == [0, 0, 1, 1, 1, 3, 3, 3, 4, 4, 2]


def test_figure_is_as_wide_as_the_style_and_outside_pyplot():
    from companion.plotting import figure

    with matplotlib.rc_context({"figure.figsize": (7.5, 2.0)}):
        fig, axes = figure(4.0, (2, 1))
        _, mosaic = figure(3.0, "ab;cc")
    assert tuple(fig.get_size_inches()) == (7.5, 4.0) and axes.shape == (2,)
    assert sorted(mosaic) == ["a", "b", "c"]
    assert not plt.get_fignums(), "a figure of the book is never shown by pyplot"


def test_reference_lines_are_one_dashed_line_per_value_named_in_the_legend():
    from companion.plotting import reference_lines

    fig, ax = plt.subplots()
    reference_lines(ax, [1.0, 0.5], ["one", "half"], ["C1", "C2"])
    reference_lines(ax, 3.0, axis="x", ls=":")
    plt.close(fig)
    one, half, vertical = ax.get_lines()
    assert one.get_ydata()[0] == 1.0 and one.get_label() == "one" and one.get_color() == "C1"
    assert half.get_linestyle() == "--" and vertical.get_xdata()[0] == 3.0
    assert vertical.get_linestyle() == ":" and vertical.get_label().startswith("_")
