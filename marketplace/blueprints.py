"""The market's two blueprints, shared by its capabilities.

One ``/api/v1`` blueprint ("market") and one page blueprint ("marketplace"), so endpoint names
(``market.get_batch``, ``marketplace.batch``), URLs and the OpenAPI tag stay the same however
the code is divided. Each capability's ``api.py`` and ``views.py`` add their routes to these;
``marketplace.init_app`` imports them before registering the blueprints. Templates live under
``marketplace/templates/marketplace/<capability>/``.
"""

from flask import Blueprint

from app.api import ApiBlueprint

api_blp = ApiBlueprint(
    "market", "marketplace", url_prefix="/api/v1", description="Verticals and batches"
)
web_bp = Blueprint("marketplace", "marketplace", template_folder="templates")
