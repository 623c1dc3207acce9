"""SAPIENT sensor nodes in: `cuas adapter-sapient` (sensors/sapient/server.py)."""
