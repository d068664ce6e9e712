"""The trading platform's strategy interface and Maestro as a meta-strategy on it."""
