"""Privacy: a supporter's data on request, and its erasure (organisers)."""
