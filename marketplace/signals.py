"""Signals other packages connect to, so the market never imports them (blinker, as Flask does).

``batch_processed``: sent with the batch id once a batch has finished intake and is waiting in
``spot_check`` or ``held``. It is sent inside intake's last transaction, before it commits: a
receiver's work (verification draws the batch's sample) joins that transaction, commits with
the new status, and if it raises, rolls the status back too.

``stream_lead_inspection``: sent with ``batch_id`` (the stream's) and ``lead_id`` when the
stream's plan sends a posted lead to inspection, inside the post's transaction: verification's
receiver queues the inspection item, which commits with the lead or not at all.
"""

from blinker import Namespace

_signals = Namespace()

batch_processed = _signals.signal("batch-processed")

stream_lead_inspection = _signals.signal("stream-lead-inspection")
