"""The request-space search (`can`): finite regions per dimension, the search program on top of
the decision encodings, witnesses re-checked by the decider, and the principal cover of
resource policies. Imports `policy` and `engine`."""
