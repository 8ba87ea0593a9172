"""Signals other packages connect to, so the market never imports them (blinker, as Flask does).

``batch_processed``: sent with the batch id once a batch has finished intake and is waiting in
``spot_check`` or ``held``. It is sent after intake's last commit, so a receiver opens its own
transaction (verification draws the batch's sample).
"""

from blinker import Namespace

_signals = Namespace()

batch_processed = _signals.signal("batch-processed")
