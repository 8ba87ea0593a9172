"""Signals other packages connect to, so billing never imports them (blinker, as Flask does).

``auto_recharge_failed``: sent with ``organization_id``, ``reason`` and ``top_up_id`` (or None)
when a failed automatic top-up turned a buyer's auto-recharge off. It is sent inside billing's
database transaction: a receiver should only change rows (through its own services, whose
``transaction()`` joins ours) so that the switch-off and, say, pausing auto-buy commit together.
"""

from blinker import Namespace

_signals = Namespace()

auto_recharge_failed = _signals.signal("auto-recharge-failed")
