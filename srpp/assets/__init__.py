"""Social assets lent for social use ("panauda"): the public list, assignments, utilisation and audits."""
