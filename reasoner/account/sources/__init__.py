"""Snapshot sources: one module per AWS output shape a snapshot is read from (GAAD, resource-policy
lists, the organization tree, VPC endpoints, the bundle file, a CloudMapper dump)."""
