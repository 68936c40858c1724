"""Donations: where the support banner leads."""
