"""Money: Stripe, the wallet, the double-entry ledger and payouts."""


def init_app(app, api) -> None:
    from app.demo import register_demo_step
    from app.extensions import csrf
    from app.tasks import register_task_module
    from billing import models  # noqa: F401  (tables known to migrations)
    from billing.api import blp
    from billing.cli import billing_cli
    from billing.demo import fund_demo_buyer
    from billing.tasks import BEAT_SCHEDULE
    from billing.views import bp, register_navigation

    api.register_blueprint(blp)
    # The API authenticates with bearer tokens (and the webhook with Stripe's signature),
    # never cookies, so CSRF does not apply.
    csrf.exempt(blp)
    app.register_blueprint(bp)
    register_navigation(app)
    register_task_module("billing.tasks", BEAT_SCHEDULE)
    register_demo_step(fund_demo_buyer)
    app.cli.add_command(billing_cli)
