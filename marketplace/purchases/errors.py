"""Errors of buying leads: subclasses of app.errors, answered by the one handler."""

from app.errors import Conflict, NotFound


class LeadNotFound(NotFound):
    message = "No such lead is or was on sale."


class PurchaseNotFound(NotFound):
    message = "There is no such purchase."


class PurchasedLeadNotFound(NotFound):
    message = "Your organisation has not bought this lead."


class AlreadyPurchased(Conflict):
    code = "already_purchased"
    message = "Your organisation already bought this lead."


class LeadUnavailable(Conflict):
    code = "lead_unavailable"
    message = "A lead is no longer available; nothing was bought."


class NotEnoughLeads(Conflict):
    code = "not_enough_leads"
    message = "Fewer leads match than the quantity asked for; nothing was bought."


class PriceChanged(Conflict):
    code = "price_changed"
    message = "Prices changed since the total was confirmed; nothing was bought."
