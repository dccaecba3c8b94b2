"""Plots for the notebooks (provided code: nothing to implement here).

- visualize_grid: tile a batch of images into one image (as in CS231n).
- show_net_weights: the first-layer weights of a network as a grid of 32x32 colour images.
- plot_stats: loss history and train/validation accuracy of one training run.
- plot_training_curves: several runs (e.g. update rules) compared on one figure.

Every plotting function draws with matplotlib.pyplot and returns the matplotlib Figure; in a
notebook the figure shows at the end of the cell (end the line with ``;`` or assign the result,
so that it does not show twice).
"""
import math

import numpy as np


def _plt():
    import matplotlib.pyplot as plt  # imported lazily: importing cs239 stays fast
    return plt


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Reshape a 4D tensor of image data to a grid for easy visualization.

    Each image is rescaled on its own to the range [0, ubound] (a constant image becomes 0).

    Inputs:
    - Xs: Data of shape (N, H, W, C) (channels last, as in CS231n). An array of shape
      (N, 3, H, W) or (N, 1, H, W) whose last dimension is not 1 or 3 is taken as channels first.
    - ubound: Output grid will have values scaled to the range [0, ubound].
    - padding: The number of blank pixels between elements of the grid.

    Returns:
    - grid: float array of shape (G * (H + padding) - padding, G * (W + padding) - padding, C)
      where G = ceil(sqrt(N)); blank cells and padding are 0.
    """
    Xs = np.asarray(Xs)
    if Xs.ndim != 4:
        raise ValueError("visualize_grid expects images of shape (N, H, W, C), got %s"
                         % (Xs.shape,))
    if Xs.shape[1] in (1, 3) and Xs.shape[3] not in (1, 3):
        Xs = Xs.transpose(0, 2, 3, 1)
    N, H, W, C = Xs.shape
    grid_size = int(math.ceil(math.sqrt(N)))
    grid_height = H * grid_size + padding * (grid_size - 1)
    grid_width = W * grid_size + padding * (grid_size - 1)
    grid = np.zeros((grid_height, grid_width, C))
    for i in range(N):
        r, c = divmod(i, grid_size)
        img = Xs[i].astype(np.float64)
        low, high = np.min(img), np.max(img)
        y0, x0 = r * (H + padding), c * (W + padding)
        if high > low:
            grid[y0:y0 + H, x0:x0 + W] = ubound * (img - low) / (high - low)
    return grid


def _first_layer_weights(W1):
    """W1 as an array of shape (3072, H), from an array, a params dict or a model."""
    if hasattr(W1, "params"):
        W1 = W1.params
    if isinstance(W1, dict):
        W1 = W1["W1"]
    W1 = np.asarray(W1)
    if W1.ndim == 1:
        W1 = W1[:, None]
    if W1.ndim != 2 or W1.shape[0] != 3 * 32 * 32:
        raise ValueError("show_net_weights expects first-layer weights of shape (3072, H), "
                         "got %s" % (W1.shape,))
    return W1


def show_net_weights(W1, ax=None, padding=3, figsize=(6, 6), title=None):
    """Show first-layer weights as a grid of 32x32 colour images, one per hidden unit.

    Inputs:
    - W1: First-layer weights of shape (3072, H), with rows laid out like the flattened images
      (channel-major: 1024 red, 1024 green, 1024 blue, as X.reshape(N, -1) gives for X of shape
      (N, 3, 32, 32)). A model with params['W1'] or a params dict is also accepted.
    - ax: matplotlib Axes to draw into (default: a new figure of size figsize).
    - padding: Blank pixels between the images.
    - figsize: (width, height) in inches of a new figure.
    - title: Optional axes title.

    Returns:
    - fig: The matplotlib Figure.
    """
    W1 = _first_layer_weights(W1)
    images = W1.T.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (H, 32, 32, 3)
    grid = visualize_grid(images, ubound=255.0, padding=padding)
    if ax is None:
        fig, ax = _plt().subplots(figsize=figsize)
    else:
        fig = ax.figure
    ax.imshow(grid.astype("uint8"))
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


def _histories(run):
    """(loss_history, train_acc_history, val_acc_history) of a Solver, dict or similar."""
    def get(name):
        value = run.get(name) if isinstance(run, dict) else getattr(run, name, None)
        return [] if value is None else list(np.asarray(value, dtype=float).ravel())
    return get("loss_history"), get("train_acc_history"), get("val_acc_history")


def plot_stats(stats, figsize=(12, 4), title=None):
    """Plot the loss history and the train/validation accuracy of one training run.

    Inputs:
    - stats: A dict with 'loss_history' (one loss per iteration) and 'train_acc_history',
      'val_acc_history' (one accuracy per epoch), as returned by TwoLayerNet.train, or an
      object with those attributes, such as a trained Solver.
    - figsize: (width, height) of the figure in inches.
    - title: Optional title of the whole figure.

    Returns:
    - fig: The matplotlib Figure, with two Axes: loss vs iteration and accuracy vs epoch.
    """
    loss, train_acc, val_acc = _histories(stats)
    fig, (ax_loss, ax_acc) = _plt().subplots(1, 2, figsize=figsize)
    ax_loss.plot(loss)
    ax_loss.set_title("Loss history")
    ax_loss.set_xlabel("Iteration")
    ax_loss.set_ylabel("Loss")
    ax_acc.plot(train_acc, "o-", label="train")
    ax_acc.plot(val_acc, "o-", label="val")
    ax_acc.set_title("Classification accuracy history")
    ax_acc.set_xlabel("Epoch")
    ax_acc.set_ylabel("Classification accuracy")
    ax_acc.legend(loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_training_curves(runs, figsize=(12, 12), title=None):
    """Compare several training runs (update rules, activations, ...) on one figure.

    Inputs:
    - runs: A dict {label: run} where each run is a trained Solver, or a dict with
      'loss_history', 'train_acc_history' and 'val_acc_history' (as TwoLayerNet.train returns).
    - figsize: (width, height) of the figure in inches.
    - title: Optional title of the whole figure.

    Returns:
    - fig: The matplotlib Figure, with three Axes stacked vertically: training loss vs
      iteration, training accuracy vs epoch and validation accuracy vs epoch, one line per run
      with a legend.
    """
    if not runs:
        raise ValueError("plot_training_curves needs at least one run, got none")
    fig, (ax_loss, ax_train, ax_val) = _plt().subplots(3, 1, figsize=figsize)
    for label, run in runs.items():
        loss, train_acc, val_acc = _histories(run)
        ax_loss.plot(loss, "o", markersize=2, alpha=0.7, label=str(label))
        ax_train.plot(train_acc, "-o", label=str(label))
        ax_val.plot(val_acc, "-o", label=str(label))
    for ax, name, xlabel in ((ax_loss, "Training loss", "Iteration"),
                             (ax_train, "Training accuracy", "Epoch"),
                             (ax_val, "Validation accuracy", "Epoch")):
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.legend(loc="lower center", ncol=min(len(runs), 4))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
