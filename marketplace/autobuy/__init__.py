"""Auto-buy (the market issue, part 6): saved searches and buying what matches them.

It will hold saved searches, and auto-buy: a receiver of a listing signal buys matching leads
for the buyers who asked, under a fairness rule, and pauses when billing's
``auto_recharge_failed`` says the buyer's wallet cannot pay.
"""
