"""The market: batches, listings, search, purchases, delivery and disputes."""


def init_app(app, api) -> None:
    from app.extensions import csrf
    from app.tasks import register_task_module
    from marketplace import models  # noqa: F401  (tables known to migrations)
    from marketplace.api import blp
    from marketplace.views import bp

    api.register_blueprint(blp)
    csrf.exempt(blp)
    app.register_blueprint(bp)
    register_task_module("marketplace.tasks")

    from marketplace.cli import batches_cli

    app.cli.add_command(batches_cli)
