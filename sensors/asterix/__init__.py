"""ASTERIX CAT-048 radar plots in: `cuas adapter-asterix` (sensors/asterix/adapter.py)."""
