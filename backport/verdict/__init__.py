"""Verdicts: is a requested commit on a line already (detect), would it pick
cleanly (simulate), and what that makes it (judge)."""
