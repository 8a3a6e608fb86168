"""The API contract: every public function, given bad arguments, raises GraphlangError (or a clear
TypeError for a wrong Python type) — never a numpy error, KeyError or ValueError from deep inside."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import PROGRAMS

import graphlang
from graphlang import GraphlangError
from graphlang.checker import grade_answers, grade_program

PROGRAM = "input v[2]\na = x * z\ny = a * sum(v) + ln(x)"
GOOD = {"x": 2.0, "z": 3.0, "v": [1.0, 2.0]}
BAD_VALUES = [None, "abc", 42, 2.5, [1, 2], object(), {"x": "a", "z": 1, "v": [1, 2]},
              {"x": [[1], [2, 3]], "z": 1, "v": [1, 2]}, {"nope": 1}, {"x": float("nan"), "z": 1, "v": [1, 2]},
              {"x": 1e400, "z": 1, "v": [1, 2]}, {"x": 2, "z": 3, "v": [1, 2, 3]}, {"x": 2, "z": 3},
              {"x": True, "z": 3, "v": [1, 2]}, {"x": np.array([1.0, 2.0]), "z": 3, "v": [1, 2]},
              {"x": -1, "z": 3, "v": [1, 2]}]
BAD_OPTIONS = [None, "abc", 0, -1, 1e400, float("nan"), [1], object(), "reverse,forward"]


def _ok(call, *args):
    try:
        call(*args)
    except graphlang.GraphlangError as err:
        assert err.kind and err.message
    except TypeError as err:
        assert "graphlang" not in type(err).__module__
        assert str(err)


def calls(prog):
    yield lambda v: prog.evaluate(v)
    yield lambda v: prog.gradient(v)
    yield lambda v: prog.gradient(v)  # the second call runs the compiled plan
    yield lambda v: prog.forward(v)
    yield lambda v: prog.jacobian(v)
    yield lambda v: prog.hessian(v)
    yield lambda v: prog.tangents(v, {"x": 1.0})
    yield lambda v: grade_answers(prog, {"a": 6}, v)
    yield lambda v: grade_program(prog, "a = x * z\ny = a * sum(v) + ln(x)", v)


@pytest.mark.parametrize("index", range(len(BAD_VALUES)))
def test_bad_values_to_every_entry_point(index):
    prog = graphlang.parse(PROGRAM)
    for call in calls(prog):
        _ok(call, BAD_VALUES[index])


@pytest.mark.parametrize("option", BAD_OPTIONS, ids=repr)
def test_bad_options_to_every_entry_point(option):
    prog = graphlang.parse(PROGRAM)
    for _name, call in [("method", lambda: prog.evaluate(GOOD, method=option)),
                       ("wrt", lambda: prog.gradient(GOOD, wrt=option)),
                       ("epsilon", lambda: prog.evaluate(GOOD, method="fd", epsilon=option)),
                       ("mode", lambda: prog.jacobian(GOOD, mode=option)),
                       ("direction", lambda: prog.tangents(GOOD, option)),
                       ("limits", lambda: graphlang.parse(PROGRAM, limits=option)),
                       ("source", lambda: graphlang.parse(option)),
                       ("path", lambda: graphlang.load(option)),
                       ("answers", lambda: grade_answers(prog, option, GOOD)),
                       ("submission", lambda: grade_program(prog, option, GOOD)),
                       ("n_points", lambda: grade_program(prog, PROGRAM, GOOD, n_points=option)),
                       ("rtol", lambda: grade_answers(prog, {"a": 6}, GOOD, rtol=option))]:
        _ok(call)


def test_limits_refuse_nonsense():
    for field, value in itertools.product(("max_depth", "max_cost", "max_statements"), (None, -1, "x", 1.5)):
        with pytest.raises((graphlang.GraphlangError, TypeError, ValueError)):
            graphlang.Limits(**{field: value})


def test_errors_and_programs_pickle_for_a_process_pool():
    """A user's find: a worker raising a GraphlangError broke a ProcessPoolExecutor (the error could
    not be unpickled), and a Program could not be pickled once evaluated (a lambda in a cache).
    Oracle: the lecture's gradient from the original program, and the error's own fields."""
    import concurrent.futures as cf
    import pickle

    prog = graphlang.load(PROGRAMS / "lecture13.cg")
    for _ in range(3):  # compiled on the second call
        want = prog.evaluate({"x": 2, "z": 3})
    again = pickle.loads(pickle.dumps(prog))
    assert again.evaluate({"x": 2, "z": 3}).gradient == want.gradient
    with pytest.raises(graphlang.GraphlangError) as info:
        graphlang.parse("a = x - 5\ny = ln(a)\n").evaluate({"x": 1})
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.kind, copy.message, copy.line, copy.column, copy.hint) == \
        (info.value.kind, info.value.message, info.value.line, info.value.column, info.value.hint)
    with cf.ProcessPoolExecutor(1) as pool:
        with pytest.raises(graphlang.GraphlangError) as remote:
            pool.submit(_ln_of_x_minus_5, 1.0).result(timeout=120)
    assert remote.value.kind == "domain" and remote.value.line == 2


def _ln_of_x_minus_5(x: float) -> float:
    return graphlang.parse("a = x - 5\ny = ln(a)\n").evaluate({"x": x}).value


def test_api_misuse_is_a_graphlang_error():
    """A user's finds: `graphlang.load(None)` raised a TypeError, `definition("nosuch")` said "input"."""
    prog = graphlang.load(PROGRAMS / "lecture13.cg")
    assert prog.definition("a") == "x * z" and prog.definition("x") == "input"
    for call in (lambda: graphlang.load(None), lambda: prog.definition("nosuch")):
        with pytest.raises(graphlang.GraphlangError) as info:
            call()
        assert info.value.kind == "usage"


def test_grading_and_training_misuse_is_a_graphlang_error():
    """A red team's finds: `grade_answers(ref, answers, None)`, `Trainer(net, None)`, `fit(None)` and
    `gradescope_zip(None)` raised TypeError or AttributeError; answers that are no mapping were all
    "no answer" without a word why."""
    from graphlang.grading import autograder
    from graphlang.training import Trainer, init_params
    ref = (PROGRAMS / "homework" / "reference.cg").read_text()
    net = graphlang.load(PROGRAMS / "digits_network.cg")
    for call in (lambda: grade_answers(ref, {"a": 6}, None), lambda: Trainer(net, None, lr=0.5),
                 lambda: Trainer(net, init_params(net, seed=0), lr=0.5).fit(None, epochs=1),
                 lambda: Trainer(net, init_params(net, seed=0), lr=0.5).epoch([], np.random.default_rng(0), 1),
                 lambda: autograder.gradescope_zip(None)):
        with pytest.raises(graphlang.GraphlangError) as info:
            call()
        assert info.value.kind == "usage"
    report = grade_answers(ref, "a=6", {"x": 2, "z": 3})  # a student's file of another shape: graded, not raised
    assert report.score == 0 and "not names with numbers (got str)" in report.feedback[0]


@pytest.mark.parametrize(("value", "said"), [(None, "got None (null)"), ("abc", "got the text 'abc'"),
                                             ("2.5", "without quotes"), (True, "got True (true)"),
                                             ({"a": 1}, "got a dict"),
                                             (np.timedelta64(2, "s"), "got a timedelta64"),  # a signed integer type
                                             ([np.timedelta64(1, "s")], "got a timedelta64")])
def test_a_value_that_is_not_a_number_is_named_in_words(value, said):
    """`got NoneType` / `got str`: Python's type names, where a student passed None or "2.5". A
    playground or --at-file user wrote JSON: null and true are named as JSON writes them too."""
    with pytest.raises(graphlang.GraphlangError) as err:
        graphlang.parse("y = x * 2").evaluate({"x": value})
    assert err.value.kind == "value" and said in err.value.message, err.value.message


def test_every_public_name_is_listed_for_completion():
    """`dir(graphlang)` lacked load and parse (made on first use): a notebook's Tab offered neither."""
    import subprocess
    import sys
    listed = subprocess.run([sys.executable, "-c", "import graphlang; print(' '.join(dir(graphlang)))"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert set(graphlang.__all__) <= set(listed)


def test_a_defaultdict_does_not_make_up_a_missing_input():
    """A red team's find: a defaultdict of values gave z its default (5.0) where z was never given,
    and the compiled path wrote it into the caller's dict. Oracle: the program reads z (x·z + …)."""
    import collections
    prog = graphlang.load(PROGRAMS / "lecture13.cg")
    given = collections.defaultdict(lambda: 5.0, x=2.0)
    for _ in range(3):  # (the compiled path from the second call on)
        with pytest.raises(graphlang.GraphlangError) as info:
            prog.gradient(given)
        assert info.value.kind == "missing-input" and "'z'" in info.value.message
    assert dict(given) == {"x": 2.0}


def test_booleans_are_refused_with_the_cast_that_fixes_them():
    """A red team's find: one-hot labels as a boolean array said only "is not numeric"."""
    prog = graphlang.parse("input t[2]\ny = sum(t * t)\n")
    with pytest.raises(graphlang.GraphlangError) as info:
        prog.evaluate({"t": np.array([False, True])})
    assert info.value.kind == "value" and "astype(float)" in (info.value.hint or "")
    assert prog.evaluate({"t": np.array([False, True]).astype(float)}).value == 1.0


def test_an_arrays_memory_layout_does_not_change_a_bit():
    """An API red team's find: a Fortran-ordered (or transposed-view) input summed in another order,
    and sum(A), A @ B and the gradient differed in the last bits from the C-ordered array's."""
    A = np.random.default_rng(1).standard_normal((64, 48))
    prog = graphlang.parse("input A[64, 48]\ny = sum(A * A) + sum(A)\n")
    for at in ({"A": A}, {"A": np.asfortranarray(A)}, {"A": A.T.copy().T}):
        r, c = prog.evaluate(at), prog.evaluate({"A": np.ascontiguousarray(A)})
        assert r.value.hex() == c.value.hex()
        np.testing.assert_array_equal(r.gradient["A"], c.gradient["A"])
        np.testing.assert_allclose(r.gradient["A"], 2 * A + 1, rtol=1e-13, atol=1e-15)  # by hand: d/dA (ΣA² + ΣA)


def test_each_array_of_a_result_is_its_own_and_writable():
    """An API red team's finds: for `a = x + 0` the compiled call gave adjoints a and x one array (a
    checker doubling each doubled it twice), `b = x.T` was a view of x, and a reverse Jacobian was a
    read-only broadcast. By hand: g_x = g_a = w = [1, 1, 1]."""
    prog = graphlang.parse("input x[3], w[3]\na = x + 0\nb = x.T\ny = sum(a * w)\n")
    at = {"x": [1.0, 2.0, 3.0], "w": [1.0, 1.0, 1.0]}
    for _ in range(4):  # interpreted, then compiled
        r = prog.evaluate(at)
        arrays = [v for d in (r.values, r.adjoints, r.gradient) for v in d.values() if isinstance(v, np.ndarray)]
        assert len({id(v) for v in arrays}) == len(arrays)
        assert not any(np.shares_memory(u, v) for i, u in enumerate(arrays) for v in arrays[i + 1:])
        for v in arrays:
            v *= 2
        assert list(prog.evaluate(at).adjoints["x"]) == [1.0, 1.0, 1.0]
    vector = graphlang.parse("input x[3]\ny = x * 2\n")
    for jac in (vector.evaluate({"x": [1.0, 2.0, 3.0]}).jacobian["x"],
                vector.jacobian({"x": [1.0, 2.0, 3.0]}, mode="reverse")["x"],
                vector.gradient({"x": [1.0, 2.0, 3.0]})["x"]):
        jac -= 2.0  # (it raised: read-only)
        np.testing.assert_array_equal(jac, 2 * np.eye(3) - 2)


def test_a_value_whose_conversion_raises_is_a_value_error():
    """An API red team's finds: a float subclass whose __float__ raises, a list subclass whose __len__
    raises, and `definition([])` leaked RuntimeError and TypeError past GraphlangError."""
    class Meters(float):
        def __float__(self):
            raise RuntimeError("unit conversion refused")

    class Rows(list):
        def __len__(self):
            raise RuntimeError("lazy")

    prog = graphlang.parse("y = x * x\n")
    for _ in range(3):
        prog.evaluate({"x": 2.0})
    for bad in (Meters(2.0), Rows([1.0])):
        for call in (prog.evaluate, prog.gradient, prog.forward, prog.hessian):
            with pytest.raises(GraphlangError) as info:
                call({"x": bad})
            assert info.value.kind == "value"
    with pytest.raises(GraphlangError, match="not a node"):
        prog.definition([])  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["reverse", "forward", "symbolic", "auto"])
def test_epsilon_with_an_exact_method_is_a_usage_error_in_python_too(method):
    """A SPEC red team's find: the command line refuses --epsilon without -m fd, the API ignored it."""
    prog = graphlang.parse("y = x * x\n")
    with pytest.raises(GraphlangError, match="epsilon is the step of method='fd'") as info:
        prog.gradient({"x": 2.0}, method=method, epsilon=1e-3)
    assert info.value.kind == "usage"
    assert prog.gradient({"x": 2.0}, method="fd", epsilon=1e-3)["x"] == pytest.approx(4.0, rel=1e-9)  # 2x


def test_forward_values_the_output_and_hessian_blocks_share_no_memory():
    """A review's finds on `owned`: forward's first (interpreted) call gave `b = x.T` a view of x,
    `r.value` stayed the view while `r.values["y"]` was copied, and a Hessian's mixed blocks were one
    array and its transpose. By hand: ∂²(Σ x·z·x)/∂x∂z = diag(2x) = diag(2, 4)."""
    prog = graphlang.parse("input x[3]\ny = x.T\n")
    for _ in range(3):
        r = prog.evaluate({"x": [1.0, 2.0, 3.0]})
        assert r.value is r.values["y"] and not np.shares_memory(r.values["x"], r.values["y"])
        f = prog.forward({"x": [1.0, 2.0, 3.0]})
        assert not np.shares_memory(f["x"], f["y"])
    h = graphlang.parse("input x[2], z[2]\ny = sum(x * z * x)\n").hessian({"x": [1.0, 2.0], "z": [3.0, 4.0]})
    np.testing.assert_array_equal(h["x"]["z"], np.diag([2.0, 4.0]))
    assert not np.shares_memory(h["x"]["z"], h["z"]["x"])


def test_a_mapping_whose_reads_raise_is_a_value_error_and_a_dict_subclass_is_its_contents():
    """An API red team's find: a dict subclass whose __getitem__ raises leaked its RuntimeError from a
    fresh program, while the compiled path (which copies the values) answered. Both now read the
    mapping once, as dict() does: a dict subclass gives its contents (y = x² = 4 at 2, by hand), a
    Mapping whose reads raise is a value error."""
    import collections.abc

    class Refusing(dict):
        def __getitem__(self, key):
            raise RuntimeError("no")

    class Broken(collections.abc.Mapping):
        def __getitem__(self, key):
            raise RuntimeError("no")

        def __iter__(self):
            return iter(["x"])

        def __len__(self):
            return 1

    for fresh in (True, False):
        prog = graphlang.parse("y = x * x\n")
        if not fresh:
            for _ in range(3):
                prog.evaluate({"x": 2.0})
        assert prog.evaluate(Refusing(x=2.0)).value == 4.0 and prog.forward(Refusing(x=2.0))["y"] == 4.0
        for call in (prog.evaluate, prog.gradient, prog.forward):
            with pytest.raises(GraphlangError, match="cannot be read: RuntimeError"):
                call(Broken())
