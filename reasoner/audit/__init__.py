"""Judgements over policies and accounts: Access-Analyzer-style checks, invariants (`prove`),
policy and snapshot diffs, lint. Imports every lower layer, never `cli`."""
