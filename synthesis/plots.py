"""Loss curves of a training run, drawn with Matplotlib's Agg renderer (no display, no pyplot state)."""

# Up to this many epochs each one is marked: a run's first epochs are points, not yet a curve.
MARKED_EPOCHS = 30


def plot_history(history, path):
    """Write a PNG (to a path or binary file) of per-epoch losses (top) and mean D outputs (bottom) of a history."""
    history_figure(history).savefig(path, dpi=100)


def history_figure(history):
    """The figure that `plot_history` writes."""
    # Here, not at the top: the site's run page imports this module, and its other pages need no matplotlib.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    epochs = [record["epoch"] for record in history]
    figure = Figure(figsize=(8, 6), layout="constrained")
    FigureCanvasAgg(figure)
    losses, outputs = figure.subplots(2, 1, sharex=True)
    marker = "." if len(epochs) <= MARKED_EPOCHS else None
    losses.plot(epochs, [r["d_loss"] for r in history], label="D loss", marker=marker)
    losses.plot(epochs, [r["g_loss"] for r in history], label="G loss", marker=marker)
    losses.set_ylabel("BCE (epoch mean)")
    losses.legend()
    outputs.plot(epochs, [r["d_real"] for r in history], label="D(x)", marker=marker)
    outputs.plot(epochs, [r["d_fake"] for r in history], label="D(G(z))", marker=marker)
    outputs.set_ylim(0, 1)
    outputs.xaxis.set_major_locator(MaxNLocator(integer=True))
    outputs.set_xlabel("epoch")
    outputs.set_ylabel("mean D output")
    outputs.legend()
    return figure
