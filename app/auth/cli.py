"""`flask users ...`: accounts made by staff."""

import click
from flask.cli import AppGroup

from app.auth import services
from app.errors import AppError

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 12 characters, not a common one.")
@click.option("--role", type=click.Choice(["admin", "seller", "buyer"]), required=True)
@click.option("--org", "organization", default=None, help="Organisation name.")
def create_user(email, password, role, organization):
    """Create a user; admins can only be made here."""
    try:
        user = services.create_user(
            email=email, password=password, role=role, organization_name=organization
        )
    except AppError as exc:
        details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.details.items())
        raise click.ClickException(f"{exc.message} {details}".strip()) from exc
    click.echo(f"created {user.role} {user.email} (organisation {user.organization.name!r})")
