"""Input models: every user file is validated here once, with a path on every error."""
