"""Retention: personal data deleted or anonymised once it is no longer needed."""
