"""Realistic, reproducible platform traffic."""

from producers.simulation.script import schema_version_of
from producers.simulation.simulator import simulate

__all__ = ["schema_version_of", "simulate"]
