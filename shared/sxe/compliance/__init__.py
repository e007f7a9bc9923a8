"""Compliance: erasure of a person, the suppression list that keeps them out, and retention by tier."""
