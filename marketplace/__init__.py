"""The market: batches, listings, search, purchases, delivery and disputes."""
