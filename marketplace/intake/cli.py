"""`flask batches ...`: run or resume batch intake from the command line, with a progress bar."""

import click
from flask.cli import AppGroup

from marketplace import queries
from marketplace.intake import run
from marketplace.models import Batch

batches_cli = AppGroup("batches", help="Batch intake.")


def _run(batch: Batch) -> Batch | None:
    """Process one batch with a progress bar; None when an error not the file's stopped it."""
    total = batch.total_rows or 0
    done = batch.processed_rows
    with click.progressbar(length=max(total, 1), label=f"batch {batch.id}", show_pos=True) as bar:
        bar.update(done)

        def progress(processed, total_rows):
            nonlocal done
            if total_rows and bar.length != total_rows:
                bar.length = total_rows
            bar.update(processed - done)
            done = processed

        try:
            result = run.process_batch(batch_id=batch.id, progress=progress)
        except run.IntakeInterrupted as exc:
            click.echo(f"\n{exc}: run `flask batches resume` again", err=True)
            return None
    counts = (
        f"{result.accepted_count} accepted, {result.rejected_count} rejected, "
        f"{result.duplicate_count} duplicates"
    )
    click.echo(
        f"batch {result.id}: {result.status} ({counts})"
        + (f" - {result.error_message}" if result.error_message else "")
    )
    return result


@batches_cli.command("process")
@click.argument("batch_id", type=int)
def process(batch_id):
    """Process (or resume) one batch still in 'processing'."""
    batch = queries.get_batch(batch_id)
    if batch is None:
        raise click.ClickException(f"no batch {batch_id}")
    if batch.status != "processing":
        raise click.ClickException(f"batch {batch_id} is {batch.status}, not processing")
    if _run(batch) is None:
        raise click.exceptions.Exit(1)


@batches_cli.command("resume")
def resume():
    """Resume every batch left in 'processing' (after a crash or a lost worker)."""
    ids = queries.list_batch_ids(status="processing")
    if not ids:
        click.echo("no batch is waiting")
    stopped = [batch_id for batch_id in ids if _run(queries.get_batch(batch_id)) is None]
    if stopped:
        raise click.exceptions.Exit(1)
