"""Verification: automatic checks, scoring, sampling, spot-checks and quality figures."""


def init_app(app, api) -> None:
    from app.demo import register_demo_step
    from app.extensions import csrf
    from app.tasks import register_task_module
    from marketplace.signals import batch_processed, stream_lead_inspection
    from verification import models  # noqa: F401  (tables known to migrations)
    from verification.api import blp
    from verification.cli import demo_step, verification_cli
    from verification.disputes import models as dispute_models  # noqa: F401
    from verification.disputes.api import blp as disputes_blp
    from verification.disputes.views import register_navigation as register_dispute_navigation
    from verification.services import on_batch_processed, on_stream_lead_inspection
    from verification.tasks import SCHEDULE
    from verification.views import bp, register_navigation

    api.register_blueprint(blp)
    api.register_blueprint(disputes_blp)
    # The API authenticates with bearer tokens only, never cookies, so CSRF does not apply.
    csrf.exempt(blp)
    csrf.exempt(disputes_blp)
    # The dispute pages add their routes to ``bp`` on import, above, before it is registered.
    app.register_blueprint(bp)
    register_navigation(app)
    register_dispute_navigation(app)
    # Intake sends this once a batch is in spot_check or held; connecting twice is a no-op.
    batch_processed.connect(on_batch_processed)
    # A stream's post sends this inside its transaction when the plan inspects the lead.
    stream_lead_inspection.connect(on_stream_lead_inspection)
    register_task_module("verification.tasks", SCHEDULE)
    register_demo_step(demo_step)
    app.cli.add_command(verification_cli)
