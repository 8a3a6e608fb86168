"""Seeded practice problems (`graphlang.exercise.generate`); the code lives in `grading/exercise.py`.

    ex = graphlang.exercise.generate(seed=7, difficulty="medium", student="alice")
    ex.source, ex.at, ex.key          # the program, the point, the answers
    ex.write("hw7/alice")             # program.cg, assignment.toml, worksheet.md/.tex, key.json
"""

from graphlang.grading.exercise import DIFFICULTIES, OPS, Exercise, generate

__all__ = ["DIFFICULTIES", "OPS", "Exercise", "generate"]
