"""`flask demo`: demo accounts (and whatever domain packages add), safe to run again."""

import click
from flask import current_app
from sqlalchemy import select

from app.auth import services
from app.auth.models import User
from app.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_STEPS
from app.extensions import db


@click.command("demo")
def demo_command():
    """Create the demo admin, seller and buyer (idempotent) and print how to sign in."""
    if current_app.config["LEADEX_ENV"] == "production":
        # The demo admin's password is printed here and published in the README.
        raise click.ClickException(
            "flask demo refuses to run with LEADEX_ENV=production: it would create an admin "
            "whose password is public. Nothing was created."
        )
    users = {}
    for role, email, org in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.email_key == email))
        if user is None:
            user = services.create_user(
                email=email, password=DEMO_PASSWORD, role=role, organization_name=org
            )
        users[role] = user
    lines = []
    for step in DEMO_STEPS:
        lines.extend(step(users))
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD})")
    for role, email, org in DEMO_ACCOUNTS:
        click.echo(f"  {role:7s} {email:26s} {org}")
    for line in lines:
        click.echo(line)
