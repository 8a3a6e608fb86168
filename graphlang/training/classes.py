"""How a model's prediction reads as a class: the accuracy and confusion matrix of `train` and
`predict`, and the class column of unlabeled predictions."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphlang.errors import GraphlangError
from graphlang.ir.graph import Graph

# A prediction made by these is a probability (one number) or a distribution (a vector).
_PROBABILITY = frozenset({"sigmoid", "softmax"})
# A loss that reads the prediction through these treats it as a logit (or a vector of scores).
_LOGIT = frozenset({"sigmoid", "softplus", "logsigmoid", "softmax", "logsoftmax", "logsumexp"})


def reading(graph: Graph, pred: str) -> str:
    """"probability" (made by sigmoid or softmax), "logit" (the loss reads it through sigmoid,
    softplus, logsigmoid, softmax…: class 1 where it is above 0) or "score" (anything else: a
    regression's output, or a number fitted to 0/1 targets)."""
    slots = {graph.slot_of[pred]}
    producer = {eq.out: eq for eq in graph.eqns}
    eq = producer.get(graph.slot_of[pred])
    while eq is not None and eq.prim.name == "id":  # `yhat = p`: the node it copies
        slots.add(eq.ins[0])
        eq = producer.get(eq.ins[0])
    if eq is not None and eq.prim.name in _PROBABILITY:
        return "probability"
    aliases = True
    while aliases:  # copies of the prediction read by the loss
        aliases = False
        for e in graph.eqns:
            if e.prim.name == "id" and e.ins[0] in slots and e.out not in slots:
                slots.add(e.out)
                aliases = True
    if any(e.prim.name in _LOGIT and any(i in slots for i in e.ins) for e in graph.eqns):
        return "logit"
    return "score"


def threshold(graph: Graph, pred: str) -> float:
    """Where one prediction number turns into class 1: 0 for a logit, 0.5 for a probability or a score."""
    return 0.0 if reading(graph, pred) == "logit" else 0.5


def is_classification(targets: np.ndarray) -> bool:
    """Labels, not quantities: 0/1 per example, or one-hot rows (a class index column is read as one)."""
    t = np.asarray(targets)
    binary = bool(np.all((t == 0) | (t == 1)))
    return binary and (t.ndim == 1 or (t.ndim == 2 and bool(np.all(t.sum(axis=1) == 1))))


def predicted_classes(preds: np.ndarray, cut: float) -> np.ndarray:
    """Each example's class: the argmax of a vector of scores, or 1 where one number is above `cut`."""
    p = np.asarray(preds, dtype=np.float64)
    if p.ndim == 2:
        return np.argmax(p, axis=1)
    return (p.reshape(len(p)) > cut).astype(int)


def accuracy(preds: np.ndarray, targets: np.ndarray, cut: float) -> float | None:
    """The fraction of examples whose class is the label's; None for regression targets."""
    p, t = np.asarray(preds), np.asarray(targets)
    if not is_classification(t) or (p.ndim == 2) != (t.ndim == 2):
        return None
    truth = np.argmax(t, axis=1) if t.ndim == 2 else (t > 0.5).astype(int)
    return float(np.mean(predicted_classes(p, cut) == truth))


def confusion(preds: np.ndarray, targets: np.ndarray, cut: float) -> np.ndarray | None:
    """Counts [true class, predicted class]; None for regression targets."""
    p, t = np.asarray(preds), np.asarray(targets)
    if not is_classification(t):
        return None
    if p.ndim == 2 and t.ndim == 2:
        k, tc = p.shape[1], np.argmax(t, axis=1)
    else:
        k, tc = 2, (t.reshape(len(t)) > 0.5).astype(int)
    out = np.zeros((k, k), dtype=int)
    np.add.at(out, (tc, predicted_classes(p if p.ndim == 2 and t.ndim == 2 else p.reshape(len(p)), cut)), 1)
    return out


def check_binary_labels(graph: Graph, pred: str | None, data: Any, label: str) -> None:
    """A binary classifier's labels are probabilities, 0 or 1 (a loss on a logit or probability reads
    them so): labels 1 and 2, or −1 and 1, made the cross-entropy negative and training went on
    (a red team's logistic regression on t = 2). Raised with the CSV line of the first one."""
    if pred is None or reading(graph, pred) == "score" or label not in data.columns:
        return
    t = np.asarray(data.columns[label], dtype=np.float64)
    if t.ndim != 1:
        return
    bad = (t < 0) | (t > 1)
    if not np.any(bad):
        return
    i = int(np.argmax(bad))
    path, lines = data.where if data.where is not None else ("the data", list(range(1, len(t) + 1)))
    seen = np.unique(t)
    hint = ("these labels are 1 and 2: subtract 1 (class 0 and class 1)" if set(seen) <= {1.0, 2.0} else
            "these labels are -1 and 1: write 0 for -1" if set(seen) <= {-1.0, 1.0} else
            "a binary label is 0 or 1 (a probability); for a number to fit, write a regression loss, "
            "0.5 * (yhat - t)^2")
    raise GraphlangError("value", f"{path} line {lines[i]}: the label {label} = {t[i]:g} is not 0 or 1, and the "
                         f"loss reads {pred} as a class probability", hint=hint)
