"""Responsiveness and trust scoring: pure functions over the mention tables (see docs/methodology.md)."""
