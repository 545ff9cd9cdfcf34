"""Benchmarks of the knowledge base: not part of ``make test``, not part of the installed package.

Run from the project folder as ``python -m benchmarks.bench_build`` or ``python benchmarks/bench_build.py``
(``make bench`` runs all of them); benchmarks/README.md says what each measures.
"""
