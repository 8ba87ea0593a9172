"""Auto-buy (the market issue, part 6): saved searches and buying what matches them.

``services`` holds saved searches and ``match_new_leads(lead_ids)``, the one matching service
(a listed batch's run, or later a single real-time lead), with its fairness rule; ``tasks``
the batch run (queued by ``list_batch`` after the decision commits) and the sweep for missed
runs. Billing's ``auto_recharge_failed`` pauses a buyer's orders (connected in init_app).
"""
