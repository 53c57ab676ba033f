"""The pure, synchronous core: artifacts, lineage, diff, selectors, checks, runs, state, summary,
column-level lineage and change analysis (cll).

Nothing here imports trio, quart or hypercorn (tests/unit/test_architecture.py keeps it so): the
server and the offline commands both build on it.
"""
