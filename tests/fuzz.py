"""Long fuzzing runs (the unit tests run a few hundred examples of each, derandomized):

    python tests/fuzz.py 100000                  # text: only GraphlangError; both parsers agree
    python tests/fuzz.py --differential 100000   # random tensor programs vs autograd

The first prints the number of examples and of invariant violations (only GraphlangError may be
raised; the fast and full parsers agree; where a program evaluates, reverse = forward = symbolic).
The second runs `test_differential.check_program` (values, every adjoint, gradient and Jacobian by
every method and engine, against autograd) on N random programs, keeps going after a failure, and
prints the programs checked, the comparisons made and each distinct failure with its smallest program.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import scalar_programs, tensor_programs  # noqa: E402
from test_fuzz import check_one, near_misses, shape_of  # noqa: E402


def main(n: int) -> None:
    import graphlang
    from graphlang.language.parser import parse_full, parse_statements
    from graphlang.limits import Limits

    settings.register_profile("fuzz", derandomize=False, database=None)
    settings.load_profile("fuzz")  # random, unlike the test suite's fixed examples
    count = {"examples": 0}

    @settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.one_of(scalar_programs(), tensor_programs(), near_misses()))
    def run(case):
        count["examples"] += 1
        source, at = case
        check_one(source, at)
        try:
            full = parse_full(source, Limits())
        except graphlang.GraphlangError:
            return
        assert shape_of(parse_statements(source)) == shape_of(full)

    start = time.perf_counter()
    run()
    print(f"fuzz: {count['examples']} examples, 0 failures, {time.perf_counter() - start:.0f} s")


def differential(n: int) -> int:
    import traceback
    import warnings

    import numpy as np
    from test_differential import check_program, programs

    warnings.simplefilter("ignore")
    count = {"programs": 0, "checks": 0}
    failures: dict[tuple[str, ...], list[str]] = {}

    @settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=False)
    @given(programs())
    def run(prog):
        count["programs"] += 1
        try:
            count["checks"] += check_program(prog)
        except Exception as err:  # noqa: BLE001 - record every distinct failure, keep searching
            where = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in traceback.extract_tb(err.__traceback__)
                     if "hypothesis" not in f.filename][-2:]
            first = str(err).split("\n")[0][:120]
            key = (type(err).__name__, first.split(":")[0] if isinstance(err, AssertionError) else "", *where)
            values = {n: np.asarray(v).tolist() for n, v in prog.values.items()}
            failures.setdefault(key, []).append(f"{str(err)[:600]}\n{prog.source()}values: {values!r}")

    start = time.perf_counter()
    run()
    bad = sum(len(v) for v in failures.values())
    print(f"differential: {count['programs']} programs, {count['checks']} comparisons with autograd, "
          f"{bad} failing programs ({len(failures)} distinct), {time.perf_counter() - start:.0f} s")
    for key, sources in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"\n{len(sources)} x {' '.join(key)}\n" + min(sources, key=len))
    return 1 if failures else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--differential":
        sys.exit(differential(int(args[1]) if len(args) > 1 else 1000))
    main(int(args[0]) if args else 1000)
