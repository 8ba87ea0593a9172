"""Web pages of the market."""

from flask import Blueprint

bp = Blueprint("marketplace", __name__, template_folder="templates")
