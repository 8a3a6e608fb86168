"""Long fuzzing run: `python tests/fuzz.py 100000` (the unit tests run a few hundred examples).

Prints the number of examples and of invariant violations (only GraphlangError may be raised;
the fast and full parsers agree; where a program evaluates, reverse = forward = symbolic).
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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
