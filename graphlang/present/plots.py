"""Pictures drawn with matplotlib (an optional extra): the ε sweep and the loss curves."""

from __future__ import annotations

from typing import Any

from graphlang.errors import GraphlangError
from graphlang.files import write_with


def pyplot() -> Any:
    """matplotlib's pyplot (an optional extra), drawing to files only."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise GraphlangError("usage", "--plot needs matplotlib, which is not installed",
                             hint="in graphlang's source folder: pip install -e '.[plot]' "
                                 "(the graphlang on PyPI is another project)") from None
    return plt


def sweep_plot(rows: list[Any], path: str) -> None:
    """The V-curves of truncation vs round-off error, on log-log axes (needs matplotlib)."""
    plt = pyplot()
    eps = [r.epsilon for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    def shown(err: float | None) -> float:  # (a step out of the domain: a gap in the line, not a line across it)
        return float("nan") if err is None else max(err, 1e-17)
    ax.loglog(eps, [shown(r.forward_error) for r in rows], "o-", label="one-sided (f(x+ε)−f(x))/ε")
    ax.loglog(eps, [shown(r.central_error) for r in rows], "s-", label="central (f(x+ε)−f(x−ε))/(2ε)")
    ax.set_xlabel("ε")
    ax.set_ylabel("error vs reverse mode, |Δ| / max(|reverse|, 1)")
    ax.legend()
    ax.set_title("Finite differences: truncation vs round-off")
    fig.tight_layout()
    try:  # exactly `path` (savefig given a name without .png would add it), as a PNG
        write_with(path, lambda fh: fig.savefig(fh, dpi=120, format="png"))
    finally:
        plt.close(fig)


def loss_plot(history: list[Any], path: str, title: str = "") -> None:
    """The mean loss per epoch (and the accuracy, where there are classes), titled with what was
    trained and how (a plot without a title or units: a visual review's find)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([h.epoch for h in history], [h.train_loss for h in history], "o-", label="train")
    if history and history[0].val_loss is not None:
        ax.plot([h.epoch for h in history], [h.val_loss for h in history], "s-", label="validation")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole (ticks at 1.25 read oddly)
    ax.set_ylabel("mean loss over the examples")
    if title:
        ax.set_title(title, fontsize=10)
    accuracy = [h.train_accuracy for h in history] if history and getattr(history[0], "train_accuracy", None) \
        is not None else None
    if accuracy is not None:  # (classes: the accuracy on a second axis)
        acc = ax.twinx()
        acc.plot([h.epoch for h in history], accuracy, "^:", color="tab:green", label="train accuracy")
        acc.set_ylabel("accuracy")
        acc.set_ylim(0, 1.02)
    lines, labels = ax.get_legend_handles_labels()
    more, names = acc.get_legend_handles_labels() if accuracy is not None else ([], [])
    # below the axes: over them it hid the curves
    ax.legend(lines + more, labels + names, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    fig.tight_layout()
    try:  # exactly `path` (savefig given a name without .png would add it), as a PNG
        write_with(path, lambda fh: fig.savefig(fh, dpi=120, format="png"))
    finally:
        plt.close(fig)
