"""Batch intake: a seller's file (CSV or JSON) becomes checked, de-duplicated, scored leads.

services (use cases) -> tasks -> run (one run, resumable) -> source (the file), pipeline
(checking, inline or in worker processes), rows (check, derive, format a row), store
(de-duplication and set-based insert). api, views, forms and staging (the web upload's two
steps) sit on top; queries and schemas serve them. When a batch waits for its spot-check, run
sends ``batch_processed`` (marketplace/signals.py).
"""
