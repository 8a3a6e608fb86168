"""The homework checker's public import path (`graphlang.checker`); the code lives in `grading/`."""

from graphlang.grading.checker import Item, Report, grade_answers
from graphlang.grading.programs import grade_program

__all__ = ["Item", "Report", "grade_answers", "grade_program"]
