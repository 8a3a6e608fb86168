"""Presenters: Rich tables, JSON objects, explain (the lecture's chain-rule lines), DOT drawings, notebook
HTML, plots, and the Pygments lexer. They format; they never compute derivatives themselves.

Layer: imports anything below (program, grading, training, gradcheck, ...); only front ends import it.
"""
