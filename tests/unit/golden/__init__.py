"""A frozen copy of the first version's engine (tests only)."""
