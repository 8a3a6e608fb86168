"""The homework checker's public import path (`graphlang.checker`); the code lives in `grading/`."""

from graphlang.errors import GraphlangError
from graphlang.grading.assignment import Assignment
from graphlang.grading.checker import grade_answers
from graphlang.grading.compare import Comparison
from graphlang.grading.programs import grade_program
from graphlang.grading.report import Item, Report

__all__ = ["Assignment", "Comparison", "GraphlangError", "Item", "Report", "grade_answers", "grade_program"]
