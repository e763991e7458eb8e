"""Realistic, reproducible platform traffic."""

from producers.simulation.simulator import simulate

__all__ = ["simulate"]
