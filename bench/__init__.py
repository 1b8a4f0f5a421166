"""Benchmarks: `python -m bench.<name>`; each prints its figures and writes them to README.md."""
