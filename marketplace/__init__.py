"""The market: verticals, seller standing, batch intake; then listings, purchases, delivery,
auto-buy and streams, each a sub-package.

Other packages call it through ``marketplace.services`` (a facade), ``marketplace.queries``,
``marketplace.signals`` and ``marketplace.schemas``. Inside, imports run one way: models,
derive, queries, standing, then verticals and suppressions, then intake, then the capabilities
of the market itself.
"""


def init_app(app, api) -> None:
    from app.extensions import csrf
    from app.tasks import register_task_module
    from billing.signals import auto_recharge_failed

    # A capability's api and views add their routes to the shared blueprints when imported.
    from marketplace import api as verticals_api  # noqa: F401  (routes)
    from marketplace import models  # noqa: F401  (tables known to migrations)
    from marketplace.autobuy import api as autobuy_api  # noqa: F401  (routes, tables)
    from marketplace.autobuy import services as autobuy
    from marketplace.autobuy import views as autobuy_views  # routes, and its navigation
    from marketplace.autobuy.tasks import SCHEDULE as AUTOBUY_SCHEDULE
    from marketplace.blueprints import api_blp, web_bp
    from marketplace.delivery import api as delivery_api  # noqa: F401  (routes, tables)
    from marketplace.delivery import views as delivery_views  # routes, and its navigation
    from marketplace.delivery.tasks import SCHEDULE as DELIVERY_SCHEDULE
    from marketplace.intake import api as intake_api  # noqa: F401  (routes)
    from marketplace.intake import views as intake_views  # routes, and its navigation below
    from marketplace.intake.cli import batches_cli
    from marketplace.intake.tasks import SCHEDULE as INTAKE_SCHEDULE
    from marketplace.listings import api as listings_api  # noqa: F401  (routes)
    from marketplace.listings import views as listings_views  # routes, and its navigation
    from marketplace.purchases import api as purchases_api  # noqa: F401  (routes, tables)
    from marketplace.purchases import views as purchases_views  # routes, and its navigation
    from marketplace.streams import api as streams_api  # noqa: F401  (routes, tables)
    from marketplace.streams import views as streams_views  # routes, and its navigation

    api.register_blueprint(api_blp)
    # The API authenticates with bearer tokens only, never cookies, so CSRF does not apply.
    csrf.exempt(api_blp)
    app.register_blueprint(web_bp)
    intake_views.register_navigation(app)
    streams_views.register_navigation(app)
    listings_views.register_navigation(app)
    # The buyer's day after the market: bought leads, saved searches, delivery.
    purchases_views.register_navigation(app)
    autobuy_views.register_navigation(app)
    delivery_views.register_navigation(app)
    register_task_module("marketplace.intake.tasks", INTAKE_SCHEDULE)
    register_task_module("marketplace.delivery.tasks", DELIVERY_SCHEDULE)
    register_task_module("marketplace.autobuy.tasks", AUTOBUY_SCHEDULE)
    # Runs inside billing's transaction: it only pauses the buyer's active auto-buy orders.
    auto_recharge_failed.connect(autobuy.on_auto_recharge_failed, weak=False)
    app.cli.add_command(batches_cli)
