"""Benchmarks of home-dispatch (run as scripts from the repo root, e.g. `make bench`)."""
