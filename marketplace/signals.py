"""Signals other packages connect to, so the market never imports them (blinker, as Flask does).

``batch_processed``: sent with the batch id once a batch has finished intake and is waiting in
``spot_check`` or ``held``. It is sent inside intake's last transaction, before it commits: a
receiver's work (verification draws the batch's sample) joins that transaction, commits with
the new status, and if it raises, rolls the status back too.
"""

from blinker import Namespace

_signals = Namespace()

batch_processed = _signals.signal("batch-processed")
