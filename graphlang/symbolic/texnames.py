"""Names in LaTeX math, as the lecture writes them: `alpha1` is \\alpha_{1} for a number, and for a
tensor (bold) the layer index \\boldsymbol{\\alpha}^{(1)}; the presenter says which names are tensors."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from graphlang.symbolic.matrixtex import script_base

_GREEK = frozenset("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi rho sigma tau "
                   "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())
_ACCENTS = ("hat", "bar", "tilde")
_TENSORS: ContextVar[frozenset[str]] = ContextVar("graphlang_tex_tensors", default=frozenset())
ADJOINT = "g"  # g_a, the adjoint of a: a tensor's adjoint is a tensor (bold g, as the lecture's \\mathbf{g}_{\\beta})


@contextmanager
def tensor_names(names: Iterable[str]) -> Iterator[None]:
    """Within: these names (nodes whose value has an axis) are written bold, a trailing number as the
    layer index `^{(l)}` (\\mathbf{z}^{(1)}), and so are their adjoints `g_z1` and tangents."""
    token = _TENSORS.set(frozenset(names))
    try:
        yield
    finally:
        _TENSORS.reset(token)


def _bold(base: str) -> str:
    """A tensor's symbol: \\mathbf for Latin letters and words, \\boldsymbol for Greek."""
    return f"\\boldsymbol{{{base}}}" if base.startswith("\\") else f"\\mathbf{{{base}}}"


def _tex_word(word: str, tensor: bool = False, bold: bool | None = None) -> str:
    """One name without `_`, as the lecture writes it: `alpha1` -> `\\alpha_{1}`, `yhat` -> `\\hat{y}`,
    `a1` -> `a_{1}`, a longer word upright-italic as one symbol (`\\mathit{loss}`), not a product;
    a tensor bold, its number the layer's (`\\boldsymbol{\\alpha}^{(1)}`, `\\hat{\\mathbf{y}}`)."""
    letters = word.rstrip("0123456789")
    digits = word[len(letters):]
    bold = tensor if bold is None else bold
    if not letters:
        return word
    if not letters.isalpha():  # `alpha1p`, `x2y`: one symbol (math mode wrote the product a·l·p·h·a·1·p)
        return _bold(word) if bold else f"\\mathit{{{word}}}"
    accent = next((a for a in _ACCENTS if letters.endswith(a) and len(letters) > len(a)), None)
    base = letters[: -len(accent)] if accent else letters
    text = f"\\{base}" if base in _GREEK else base if len(base) == 1 or bold else f"\\mathit{{{base}}}"
    if bold:
        text = _bold(text)
    if accent:
        text = f"\\{accent}{{{text}}}"
    if not digits:
        return text
    return text + (f"^{{({digits})}}" if tensor else f"_{{{digits}}}")


def tex_name(name: str) -> str:
    """A name in LaTeX math: `a_b` is a subscripted `a_{b}`; any further `_` is escaped
    (`a_b_c` -> `a_{b\\_c}`, never the double subscript `a_b_c` that LaTeX rejects); each part is
    written as the lecture does (`alpha1` -> `\\alpha_{1}`, `g_a1` -> `g_{a_{1}}`; a tensor's as
    `tensor_names` says)."""
    tensors = _TENSORS.get()
    if not name.isascii():  # a tangent (`ȧ`, `alpha1˙`: forward mode; every other name is ASCII)
        plain = unicodedata.normalize("NFD", name).replace("\u0307", "", 1).removesuffix("\u02d9")
        text = tex_name(plain)
        cut = min((i for i in (text.find("_{"), text.find("^{(")) if i >= 0), default=len(text))
        return "\\dot{" + text[:cut] + "}" + text[cut:]  # the dot over the letter: \\dot{z}_{1}
    if name in tensors and "_" not in name:
        return _tex_word(name, tensor=True)
    head, sep, tail = name.partition("_")
    if not sep:
        return _tex_word(name)
    if not head or not tail:  # `_x`, `x_`: nothing to subscript
        return name.replace("_", "\\_")
    bold = name in tensors or (head == ADJOINT and tail in tensors)  # (the adjoint of a tensor: one too)
    if _word(head) and ("_" in tail or _word(tail)):  # `first_input_value`, `loss_total`: one long name
        return _whole(name, name in tensors)
    adjoint = head == ADJOINT
    head = _tex_word(head, bold) if not head[-1].isdigit() else f"\\mathit{{{head}}}"
    if adjoint and "_" in tail and not _word(tail.partition("_")[0]):  # g_W_1: W_1 as it is written,
        return head + "_{" + tex_name(tail) + "}"  # \\mathbf{g}_{\\mathbf{W}_{1}} (a nested subscript)
    if "_" in tail:  # `a_b_c` -> a_{b\_c}; g_first_input_value -> g_{\mathit{first\_input\_value}}, as the name
        sub = _whole(tail, tail in tensors) if _word(tail.partition("_")[0]) else tail.replace("_", "\\_")
        return head + "_{" + sub + "}"
    return head + "_{" + _tex_word(tail, tail in tensors) + "}"


def _word(part: str) -> bool:
    """A word, not a symbol: `first`, `loss` (not `x`, `alpha`, `yhat`, `W1`)."""
    return len(part) > 1 and part.isalpha() and part not in _GREEK and not part.endswith(_ACCENTS)


def _whole(name: str, tensor: bool) -> str:
    """A long name as one italic symbol, its `_` written: `\\mathit{first\\_input}` (bold for a tensor)."""
    text = "\\mathit{" + name.replace("_", "\\_") + "}"
    return f"\\boldsymbol{{{text}}}" if tensor else text


def tex_element(name: str, index: str) -> str:
    """One number of a tensor, not bold as the lecture's x_1 and X_{11}: `\\alpha^{(1)}_{0,1}`,
    `x_{2}`, `\\left(b_{1}\\right)_{2}` (never b_{1}_{2}, nor b₁₂)."""
    tensors = _TENSORS.get()
    if name in tensors and "_" not in name:
        return _tex_word(name, tensor=True, bold=False) + f"_{{{index}}}"
    token = _TENSORS.set(tensors - {name})
    try:
        text = tex_name(name)
    finally:
        _TENSORS.reset(token)
    return (f"\\left({text}\\right)" if "_" in text else script_base(text)) + f"_{{{index}}}"


def tensors_in(shapes: Mapping[str, Any] | None) -> list[str]:
    """The names whose shape has an axis (name -> shape; None: none known)."""
    return [n for n, s in (shapes or {}).items() if s]
