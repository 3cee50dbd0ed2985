"""Benchmarks (`make bench`): they print figures and ratios to goals; they do not fail."""
