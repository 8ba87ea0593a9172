"""The seller's controls on its batch pages: withdraw the batch or one lead, reprice what is
unsold; bounds beside the field, another seller's batch 404, a buyer 403."""

import pytest
from sqlalchemy import select, update

from app.auth.models import AuditEntry
from app.db import transaction
from app.errors import Invalid
from app.extensions import db
from marketplace.listings.services import change_batch_price
from marketplace.models import Batch, Lead
from tests.helpers import csrf_token, make_user
from tests.marketplace.listings.market import list_leads


def _batch(batch_id: int) -> Batch:
    db.session.expire_all()
    return db.session.get(Batch, batch_id)


def _lead(lead_id: int) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def _post(client, path: str, page: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def test_a_seller_reprices_the_unsold_leads_from_the_batch_page(client, login, seller):
    unsold, sold = list_leads(seller, {}, {}, price_cents=1500)
    with transaction():
        db.session.execute(update(Lead).where(Lead.id == sold.id).values(sales_count=1))
    page = f"/seller/batches/{unsold.batch_id}"
    login(seller)
    text = client.get(page).get_data(as_text=True)
    assert "Change the price" in text and 'value="15.00"' in text
    done = _post(client, f"{page}/price", page, price="19.25")
    assert done.status_code == 302 and done.headers["Location"] == page
    assert _batch(unsold.batch_id).price_cents == 1925
    assert _lead(unsold.id).price_cents == 1925 and _lead(sold.id).price_cents == 1500
    assert "New price $19.25 per lead" in client.get(page).get_data(as_text=True)


@pytest.mark.parametrize(
    ("price", "problem"),
    [("0", "A price from $0.01"), ("100000000", "A price from $0.01"), ("1.005", "Whole cents")],
)
def test_a_price_out_of_bounds_is_shown_beside_the_field(client, login, seller, price, problem):
    (lead,) = list_leads(seller, {}, price_cents=1500)
    page = f"/seller/batches/{lead.batch_id}"
    login(seller)
    refused = _post(client, f"{page}/price", page, price=price)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    field = text[text.index('class="stack-form price-form"') :]
    assert 'aria-invalid="true"' in field and problem in field.split("</form>")[0]
    assert _lead(lead.id).price_cents == 1500


def test_the_service_keeps_the_upload_bounds_too(seller):
    (lead,) = list_leads(seller, {}, price_cents=1500)
    with pytest.raises(Invalid) as refused:
        change_batch_price(actor=seller, batch_id=lead.batch_id, price_cents=0)
    assert "price_cents" in refused.value.details
    assert _lead(lead.id).price_cents == 1500


def test_a_seller_withdraws_its_batch_after_a_confirm_dialog(client, login, seller):
    first, second = list_leads(seller, {}, {})
    page = f"/seller/batches/{first.batch_id}"
    login(seller)
    text = client.get(page).get_data(as_text=True)
    assert "Withdraw the batch" in text and "data-confirm=" in text and "js/confirm.js" in text
    done = _post(client, f"{page}/withdraw", page)
    assert done.status_code == 302
    assert _batch(first.batch_id).status == "withdrawn"
    assert {_lead(first.id).status, _lead(second.id).status} == {"withdrawn"}
    text = client.get(page).get_data(as_text=True)
    assert f"Batch #{first.batch_id} is withdrawn" in text
    assert "Withdraw the batch" not in text and "Change the price" not in text
    again = _post(client, f"{page}/withdraw", f"{page}/leads")  # a second tab, say
    assert again.status_code == 302
    assert "Only a listed batch can be withdrawn." in client.get(page).get_data(as_text=True)


def test_a_seller_withdraws_one_lead_from_the_leads_page(client, login, seller):
    kept, gone = list_leads(seller, {}, {})
    page = f"/seller/batches/{kept.batch_id}/leads"
    login(seller)
    text = client.get(page).get_data(as_text=True)
    assert f"Withdraw lead #{gone.id}?" in text
    done = _post(client, f"/seller/leads/{gone.id}/withdraw", page)
    assert done.status_code == 302 and done.headers["Location"] == page
    assert _lead(gone.id).status == "withdrawn" and _lead(kept.id).status == "listed"
    text = client.get(page).get_data(as_text=True)
    assert f"Lead #{gone.id} is withdrawn" in text
    assert f"Withdraw lead #{gone.id}?" not in text and f"Withdraw lead #{kept.id}?" in text
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "lead.withdrawn" in actions
    again = _post(client, f"/seller/leads/{gone.id}/withdraw", page)  # from a stale tab
    assert again.status_code == 302 and again.headers["Location"] == page
    assert "Only a listed lead can be withdrawn." in client.get(page).get_data(as_text=True)


def test_another_sellers_batch_and_leads_are_404(client, login, seller):
    (lead,) = list_leads(seller, {})
    batch = f"/seller/batches/{lead.batch_id}"
    login(make_user("seller"))
    own = "/seller/batches"
    assert _post(client, f"{batch}/price", own, price="9.00").status_code == 404
    assert _post(client, f"{batch}/withdraw", own).status_code == 404
    assert _post(client, f"/seller/leads/{lead.id}/withdraw", own).status_code == 404
    assert _post(client, f"{batch}/price", own, price="0").status_code == 404
    assert _lead(lead.id).status == "listed" and _lead(lead.id).price_cents == 1500


def test_a_buyer_may_not_use_the_seller_controls(client, login, seller, buyer):
    (lead,) = list_leads(seller, {})
    login(buyer)
    batch = f"/seller/batches/{lead.batch_id}"
    assert _post(client, f"{batch}/withdraw", "/market").status_code == 403
    assert _post(client, f"{batch}/price", "/market", price="9.00").status_code == 403
    assert _post(client, f"/seller/leads/{lead.id}/withdraw", "/market").status_code == 403
    assert _lead(lead.id).status == "listed"


def test_an_admin_withdraws_but_does_not_reprice(client, login, seller, admin):
    (lead,) = list_leads(seller, {})
    page = f"/seller/batches/{lead.batch_id}"
    login(admin)
    text = client.get(page).get_data(as_text=True)
    assert "Withdraw the batch" in text and "Change the price" not in text
    assert _post(client, f"{page}/price", page, price="9.00").status_code == 403
    assert _post(client, f"{page}/withdraw", page).status_code == 302
    assert _batch(lead.batch_id).status == "withdrawn"
