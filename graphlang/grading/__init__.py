"""Grading homework: a student's answers or program against a reference, with partial credit.

Layer: above `program` (a reference is a Program); beside `training` and `gradcheck`; below `present`.
`checker` grades answers (and holds the report), `programs` grades submitted programs, `submissions` runs
many submissions in child processes with time and memory limits.
"""
