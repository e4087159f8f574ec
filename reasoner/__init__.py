"""Exact AWS IAM policy reasoning on the clingo answer-set solver."""

__version__ = "0.1.0"
