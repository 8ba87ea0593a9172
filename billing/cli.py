"""`flask billing ...`: check the ledger, release earnings, reconcile with Stripe, webhooks."""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from billing import ledger, services
from billing import stripe_gateway as gateway
from billing.models import LedgerAccount, LedgerTransaction
from billing.reconcile import reconcile

billing_cli = AppGroup("billing", help="Money: ledger checks, releases, reconcile.")


@billing_cli.command("check")
def check_command():
    """Every cached balance equals the sum of its entries and every journal sums to zero."""
    problems = ledger.check()
    accounts = db.session.scalar(select(func.count()).select_from(LedgerAccount))
    journals = db.session.scalar(select(func.count()).select_from(LedgerTransaction))
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s) in {accounts} accounts, {journals} journals")
        sys.exit(1)
    click.echo(f"ledger OK: {accounts} accounts, {journals} journals")


@billing_cli.command("release")
def release_command():
    """Release the seller earnings of due, unheld sales (pending -> available)."""
    released = services.release_earnings()
    click.echo(f"released {released} sale(s)")


@billing_cli.command("reconcile")
@click.option("--fix", is_flag=True, help="Settle pending top-ups and refunds Stripe settled.")
def reconcile_command(fix):
    """Compare top-ups and refunds with Stripe; exit 1 when a difference is left unresolved."""
    try:
        result = reconcile(fix=fix)
    except gateway.GatewayError as exc:
        raise click.ClickException(f"cannot reach Stripe: {exc.message}") from exc
    for difference in result.differences:
        click.echo(str(difference))
    unresolved = result.unresolved
    fixed = len(result.differences) - len(unresolved)
    click.echo(
        f"{result.top_ups} top-ups, {result.payment_intents} PaymentIntents, "
        f"{result.refunds} refunds: {len(result.differences)} difference(s)"
        + (f", {fixed} fixed" if fix else "")
    )
    if unresolved:
        sys.exit(1)


@billing_cli.command("register-webhook")
@click.option("--url", required=True, help="Where the local Stripe server sends events.")
@click.option("--name", default="leadex", show_default=True)
def register_webhook_command(url, name):
    """Register our webhook endpoint with the local Stripe server (localstripe)."""
    try:
        base = gateway.register_local_webhook(url=url, name=name)
    except gateway.GatewayError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Stripe events from {base} go to {url}")
