"""The common indicator set: the registry, computed and reported values, the data protocol."""
