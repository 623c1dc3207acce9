"""The fusion service's commands: `cuas run` (live), `cuas replay` (offline), `cuas record`."""
