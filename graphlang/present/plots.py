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
                             hint="pip install 'graphlang[plot]'") from None
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


def loss_plot(history: list[Any], path: str) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([h.epoch for h in history], [h.train_loss for h in history], "o-", label="train")
    if history and history[0].val_loss is not None:
        ax.plot([h.epoch for h in history], [h.val_loss for h in history], "s-", label="validation")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole (ticks at 1.25 read oddly)
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    try:  # exactly `path` (savefig given a name without .png would add it), as a PNG
        write_with(path, lambda fh: fig.savefig(fh, dpi=120, format="png"))
    finally:
        plt.close(fig)
