"""cs239.vis_utils: image grids, first-layer weights and training-curve figures (Agg backend)."""
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs239.vis_utils import (plot_stats, plot_training_curves, show_net_weights,  # noqa: E402
                             visualize_grid)

pytestmark = pytest.mark.fast


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _run(n_iter=30, n_epochs=3, offset=0.0):
    return {"loss_history": list(np.linspace(2.3, 1.0, n_iter) + offset),
            "train_acc_history": list(np.linspace(0.1, 0.6, n_epochs)),
            "val_acc_history": list(np.linspace(0.1, 0.5, n_epochs))}


def test_visualize_grid_layout_and_scaling(rng):
    X = rng.normal(size=(5, 8, 6, 3))
    grid = visualize_grid(X, ubound=255.0, padding=2)
    assert grid.shape == (3 * 8 + 2 * 2, 3 * 6 + 2 * 2, 3)  # ceil(sqrt(5)) = 3 cells a side
    for i in range(5):
        r, c = divmod(i, 3)
        cell = grid[r * 10:r * 10 + 8, c * 8:c * 8 + 6]
        assert cell.min() == 0 and cell.max() == pytest.approx(255)
        lo, hi = X[i].min(), X[i].max()
        np.testing.assert_allclose(cell, 255 * (X[i] - lo) / (hi - lo))
    assert not grid[8:10].any() and not grid[:, 6:8].any()  # padding
    assert not grid[20:, 16:].any()  # the empty last cells
    # channels first gives the same grid; a constant image gives zeros, not NaN
    np.testing.assert_array_equal(visualize_grid(X.transpose(0, 3, 1, 2), padding=2), grid)
    assert not visualize_grid(np.ones((1, 4, 4, 3)), ubound=1.0).any()
    assert visualize_grid(X, ubound=1.0, padding=0).max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="expects images"):
        visualize_grid(X[0])


def test_show_net_weights_draws_channel_major_weights_as_images(rng):
    W1 = rng.normal(size=(3072, 10))
    W1[:, 0] = 0
    W1[:1024, 0] = np.linspace(0, 1, 1024)  # unit 0: red plane only, brightening downwards
    fig = show_net_weights(W1, padding=3, figsize=(5, 4))
    assert isinstance(fig, matplotlib.figure.Figure)
    assert tuple(fig.get_size_inches()) == (5, 4)
    (ax,) = fig.axes
    img = ax.get_images()[0].get_array()
    assert img.shape == (4 * 32 + 3 * 3, 4 * 32 + 3 * 3, 3) and img.dtype == np.uint8
    first = np.asarray(img[:32, :32]).astype(int)
    assert first[..., 1].max() == 0 and first[..., 2].max() == 0
    assert first[0, 0, 0] == 0 and first[31, 31, 0] == 255
    assert (np.diff(first[:, 0, 0]) >= 0).all()  # rows in order: the layout is not transposed
    # a model or a params dict works too, and can draw into a given Axes
    model = SimpleNamespace(params={"W1": W1})
    assert show_net_weights(model).axes[0].get_images()[0].get_array().shape == img.shape
    fig2, ax2 = plt.subplots()
    assert show_net_weights({"W1": W1[:, :3]}, ax=ax2, title="W1") is fig2
    assert ax2.get_title() == "W1"
    with pytest.raises(ValueError, match=r"\(3072, H\)"):
        show_net_weights(rng.normal(size=(100, 10)))


def test_plot_stats_from_dict_and_from_solver_like_objects():
    fig = plot_stats(_run(), figsize=(10, 3), title="run")
    assert tuple(fig.get_size_inches()) == (10, 3)
    ax_loss, ax_acc = fig.axes
    assert len(ax_loss.lines[0].get_ydata()) == 30
    assert [len(l.get_ydata()) for l in ax_acc.lines] == [3, 3]
    assert [t.get_text() for t in ax_acc.get_legend().get_texts()] == ["train", "val"]
    solver = SimpleNamespace(**_run(50, 5))
    fig = plot_stats(solver)
    assert len(fig.axes[0].lines[0].get_ydata()) == 50
    assert len(fig.axes[1].lines[1].get_ydata()) == 5


def test_plot_training_curves_puts_every_run_on_each_axes():
    runs = {"sgd": _run(offset=0.5), "adam": SimpleNamespace(**_run()), "rmsprop": _run(20, 2)}
    fig = plot_training_curves(runs, figsize=(8, 9), title="update rules")
    assert tuple(fig.get_size_inches()) == (8, 9)
    assert [ax.get_title() for ax in fig.axes] == ["Training loss", "Training accuracy",
                                                   "Validation accuracy"]
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sgd", "adam", "rmsprop"]
    assert [len(l.get_ydata()) for l in fig.axes[0].lines] == [30, 30, 20]
    with pytest.raises(ValueError, match="at least one run"):
        plot_training_curves({})


def test_plots_accept_a_real_solver(rng):
    from cs239.classifiers.fc_net import FullyConnectedNet
    from cs239.solver import Solver
    data = {"X_train": rng.normal(size=(40, 3, 32, 32)).astype(np.float32),
            "y_train": rng.integers(0, 10, size=40),
            "X_val": rng.normal(size=(20, 3, 32, 32)).astype(np.float32),
            "y_val": rng.integers(0, 10, size=20)}
    model = FullyConnectedNet([8], seed=0)
    solver = Solver(model, data, update_rule="sgd", num_epochs=2, batch_size=20, verbose=False)
    solver.train()
    fig = plot_stats(solver)
    assert len(fig.axes[0].lines[0].get_ydata()) == len(solver.loss_history) == 4
    fig = plot_training_curves({"sgd": solver})
    assert len(fig.axes[2].lines[0].get_ydata()) == len(solver.val_acc_history)
    shape = show_net_weights(model).axes[0].get_images()[0].get_array().shape
    assert shape == (3 * 32 + 2 * 3, 3 * 32 + 2 * 3, 3)
