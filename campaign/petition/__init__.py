"""Petitions: sign, confirm by email, count."""
