"""Loss curves of a training run, drawn with Matplotlib's Agg renderer (no display, no pyplot state)."""


def plot_history(history, path):
    """Write a PNG (to a path or binary file) of per-epoch losses (top) and mean D outputs (bottom) of a history."""
    # Here, not at the top: the site's run page imports this module, and its other pages need no matplotlib.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = [record["epoch"] for record in history]
    figure = Figure(figsize=(8, 6), layout="constrained")
    FigureCanvasAgg(figure)
    losses, outputs = figure.subplots(2, 1, sharex=True)
    losses.plot(epochs, [r["d_loss"] for r in history], label="D loss")
    losses.plot(epochs, [r["g_loss"] for r in history], label="G loss")
    losses.set_ylabel("BCE (epoch mean)")
    losses.legend()
    outputs.plot(epochs, [r["d_real"] for r in history], label="D(x)")
    outputs.plot(epochs, [r["d_fake"] for r in history], label="D(G(z))")
    outputs.set_ylim(0, 1)
    outputs.set_xlabel("epoch")
    outputs.set_ylabel("mean D output")
    outputs.legend()
    figure.savefig(path, dpi=100)
