"""`flask users ...`: accounts made and looked after by staff."""

import click
from flask.cli import AppGroup

from app.auth import queries, services
from app.errors import AppError

users_cli = AppGroup("users", help="Manage user accounts.")


def _fail(exc: AppError) -> click.ClickException:
    details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.details.items())
    return click.ClickException(f"{exc.message} {details}".strip())


def _user(email: str):
    user = queries.get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user has the email {email!r}.")
    return user


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
        raise _fail(exc) from exc
    click.echo(f"created {user.role} {user.email} (organisation {user.organization.name!r})")


@users_cli.command("set-password")
@click.option("--email", required=True)
@click.option(
    "--password",
    prompt="New password",
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when left out, so it stays out of the shell history.",
)
def set_password(email, password):
    """Give a user a new password; every web session of theirs ends."""
    user = _user(email)
    try:
        services.set_password(user=user, new_password=password, actor=None)
    except AppError as exc:
        raise _fail(exc) from exc
    click.echo(f"password changed for {user.email}; their web sessions have ended")


@users_cli.command("disable")
@click.option("--email", required=True)
def disable_user(email):
    """Stop a user signing in; their sessions, cookies and API tokens stop working."""
    user = _user(email)
    services.set_user_enabled(actor=None, user=user, is_enabled=False)
    click.echo(f"disabled {user.email}")


@users_cli.command("enable")
@click.option("--email", required=True)
def enable_user(email):
    """Let a disabled user sign in again (with a new log-in: old sessions stay ended)."""
    user = _user(email)
    services.set_user_enabled(actor=None, user=user, is_enabled=True)
    click.echo(f"enabled {user.email}")
