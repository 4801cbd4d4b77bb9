from synthesis.plots import MARKED_EPOCHS, history_figure


def history(epochs):
    return [
        {"epoch": epoch, "d_loss": 1.0, "g_loss": 2.0, "d_real": 0.6, "d_fake": 0.4} for epoch in range(1, epochs + 1)
    ]


def test_a_short_history_marks_each_epoch_on_whole_epoch_ticks():
    figure = history_figure(history(3))
    figure.canvas.draw()
    ticks = [tick for tick in figure.axes[1].get_xticks() if 1 <= tick <= 3]
    assert ticks and all(tick == int(tick) for tick in ticks)
    assert all(line.get_marker() == "." for axes in figure.axes for line in axes.get_lines())


def test_a_long_history_is_a_plain_curve():
    figure = history_figure(history(MARKED_EPOCHS + 1))
    assert all(line.get_marker() == "None" for axes in figure.axes for line in axes.get_lines())
