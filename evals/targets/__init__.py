"""Targets: the models a suite evaluates, all behind one async `TargetClient` seam."""
