"""Disputes: a buyer returns a bought lead with a reason; evidence, the seller's answer and an
admin's (or the evidence's own) decision follow. Services in services.py, reads in queries.py."""
