"""Operator tools over the camp's MQTT output: `cuas tail` and `cuas alerts`."""
