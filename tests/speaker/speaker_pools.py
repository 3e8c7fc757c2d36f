"""Shared by the pool tests and their conftest."""

# Tiny corpus: 3 non-test speakers x 3 clips per style -> 2 per speaker in the pool, 1 left for queries.
PER_STYLE = 6
