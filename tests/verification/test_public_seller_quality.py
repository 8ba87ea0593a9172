"""A seller's figures for buyers: GET /api/v1/sellers/<id>/quality and the page /sellers/<id>
that the market's seller badge links to (no inspection records, hold reason or hold form)."""

from tests.helpers import make_user
from tests.marketplace.listings.market import list_leads
from tests.verification.flow import pass_batch, upload
from verification import services as verification
from verification.queries import get_seller


def test_any_buyer_reads_the_figures_the_seller_reads_of_itself(client, seller, admin, auth):
    pass_batch(admin, upload(seller, 4).id)
    upload(seller, 2)
    own = client.get("/api/v1/seller/quality", headers=auth(seller))
    assert own.status_code == 200
    for reader in (make_user("buyer"), make_user("seller"), admin):
        response = client.get(
            f"/api/v1/sellers/{seller.organization_id}/quality", headers=auth(reader)
        )
        assert response.status_code == 200
        assert response.get_json() == own.get_json()
    assert own.get_json()["leads_submitted"] == 6 and own.get_json()["batches_inspected"] == 1


def test_unknown_sellers_and_other_organisations_are_404(client, buyer, auth):
    for org_id in (999_999, buyer.organization_id, make_user("admin").organization_id):
        response = client.get(f"/api/v1/sellers/{org_id}/quality", headers=auth(buyer))
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/sellers/{buyer.organization_id}/quality").status_code == 401


def test_the_seller_page_shows_figures_and_chart_without_the_private_parts(
    client, login, seller, admin, buyer
):
    batch = upload(seller, 4)
    pass_batch(admin, batch.id)
    verification.hold_seller(actor=admin, seller_id=seller.organization_id, note="Late refunds")
    login(buyer)
    page = client.get(f"/sellers/{seller.organization_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert get_seller(seller.organization_id).name in text
    assert "Quality score" in text and "Rates by week" in text and "<svg" in text
    assert "Rows rejected by the automatic checks" in text
    assert "On hold." in text  # the status is public; the reason is not
    for private in ("Late refunds", "Inspection record", f"#{batch.id}", "Put on hold",
                    "Clear the hold", 'name="note"', "Your quality"):  # fmt: skip
        assert private not in text, private


def test_the_seller_page_is_404_for_what_is_not_a_seller_and_needs_a_sign_in(client, login, buyer):
    assert client.get(f"/sellers/{buyer.organization_id}").status_code == 302  # to log in
    login(buyer)
    assert client.get(f"/sellers/{buyer.organization_id}").status_code == 404
    assert client.get("/sellers/999999").status_code == 404


def test_the_market_badge_links_to_the_seller_page(client, login, seller, buyer):
    list_leads(seller, {})
    login(buyer)
    text = client.get("/market").get_data(as_text=True)
    assert f'href="/sellers/{seller.organization_id}"' in text
    assert client.get(f"/sellers/{seller.organization_id}").status_code == 200
