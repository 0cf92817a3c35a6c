"""Workflows: DAGs of Python functions and notebooks, each task its own container."""
