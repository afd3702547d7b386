"""The generic, database-backed scheduler daemon and its three instances."""
