"""Drills: fly a scenario through the fusion core, score it, and report on it."""
