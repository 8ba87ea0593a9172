"""Streams: single leads sold in real time by ping/post, rather than in uploaded batches.

It will hold the ping (an offer without the contact) and the post (the full lead to the buyer
who takes it), each stream inspected as leads arrive by continuous sampling (CSP-1) instead of
a batch's spot-check.
"""
