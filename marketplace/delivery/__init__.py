"""Delivery (the market issue, part 5): pushing purchased leads to a buyer's systems.

It will hold buyers' endpoints, signed webhooks (HMAC over the body), one recorded attempt per
try, and retries with back-off as Celery tasks.
"""
