"""Listings (the market issue, parts 1-2): what is on sale and how buyers find it.

It will hold the on-sale predicate, search (``LeadFilterArgs`` -> a select, keyset-paged, with
the masked ``LeadPreviewSchema``), withdrawing a lead and changing a price, with their API and
the market page.
"""
