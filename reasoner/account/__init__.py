"""Accounts: snapshot loading, service chains, request paths through an account (`who-can`,
`reach`) and privilege escalation. Imports `policy`, `engine` and `search`."""
