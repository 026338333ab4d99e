"""Benchmarks behind `make bench`: accuracy (public data, corpus, challenge set) and speed
(service and batch scoring, each against a naive baseline measured in the same run)."""
