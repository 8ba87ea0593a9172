"""`flask verification ...`: draw missing samples, audit a recorded draw, refresh scores."""

import click
from flask.cli import AppGroup

from app.db import db
from marketplace import queries as market
from verification import queries, services
from verification.rules.sampling import draw_sample

verification_cli = AppGroup("verification", help="Spot-checks and seller quality.")


@verification_cli.command("draw-missing")
def draw_missing():
    """Draw the sample of every batch in spot_check that has none."""
    drawn = services.draw_missing_samples()
    click.echo(f"drew {len(drawn)} sample(s)" + (f": {drawn}" if drawn else ""))


@verification_cli.command("verify-sample")
@click.argument("batch_id", type=int)
def verify_sample(batch_id):
    """Draw a batch's sample again from its recorded seed and compare with the stored one."""
    check = queries.get_spot_check(batch_id)
    if check is None:
        raise click.ClickException(f"batch {batch_id} has no spot-check sample")
    items = queries.item_outcomes(batch_id)
    lot = sorted(market.lead_ids_of_batch(batch_id=batch_id))
    if len(lot) != check.lot_size:
        raise click.ClickException(
            f"batch {batch_id} has {len(lot)} leads; the sample was drawn from {check.lot_size}"
        )
    again = draw_sample(lot, check.sample_size, seed=check.seed)
    stored = sorted(item.lead_id for item in items)
    if again != stored:
        raise click.ClickException(f"batch {batch_id}: the stored sample differs from the draw")
    click.echo(
        f"batch {batch_id}: seed {check.seed} reproduces the {len(stored)} sampled leads "
        f"({check.inspection_level}, AQL {check.aql}, code {check.code_letter}, "
        f"Ac {check.accept_number} Re {check.reject_number})"
    )


@verification_cli.command("refresh-scores")
def refresh_scores():
    """Recompute every seller's stored quality score."""
    total = len(market_seller_ids())
    with click.progressbar(length=max(total, 1), label="sellers") as bar:
        changed = services.refresh_quality_scores(progress=bar.update)
    click.echo(f"{changed} of {total} scores changed")


def market_seller_ids() -> list[int]:
    return [seller.id for seller in db.session.scalars(queries.list_sellers())]


def demo_step(users: dict) -> list[str]:
    """`flask demo`: draw any missing samples and say where the verification pages are.

    Harmless when run again: drawing is idempotent and nothing else is written.
    """
    drawn = services.draw_missing_samples()
    lines = ["Verification:"]
    if drawn:
        lines.append(f"  drew spot-check samples for batches {', '.join(map(str, drawn))}")
    lines += [
        "  admin:  /admin/spot-checks (the queue), /admin/sellers (figures and holds)",
        "  seller: /seller/quality (figures, weekly chart, inspection record)",
        "  anyone: /quality (how batches are sampled and sellers scored)",
    ]
    return lines
