"""supportgate engine: case loading, targets, runner, store, CLI."""

__version__ = "0.1.0"
