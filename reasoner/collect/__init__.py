"""`reasoner collect`: read an account (or an organization) through the AWS APIs into a snapshot
bundle, with every read present, absent or unknown (never a silent gap)."""
