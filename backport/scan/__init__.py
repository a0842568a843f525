"""Scanning: the backport requests written on the unstable branch and in notes."""
