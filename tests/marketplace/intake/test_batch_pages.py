"""The seller's batch pages through the test client: two-step upload, batch page, CSV, leads."""

import csv
import io
import re
from pathlib import Path

from sqlalchemy import func, select, update

from app.extensions import db
from marketplace import services
from marketplace.models import Batch, Lead
from tests.helpers import csrf_token, log_in, make_user
from tests.leadfiles import csv_bytes, good_row

MAIL_HEADER = [
    "first_name",
    "last_name",
    "Mail",
    "country",
    "captured_at",
    "consent_text",
    "consented_at",
]


def mail_rows(count: int, start: int = 0) -> list[dict]:
    """Rows whose email column is called "Mail" and that have no phone column."""
    rows = []
    for n in range(start, start + count):
        row = good_row(n)
        row["Mail"] = row.pop("email")
        rows.append(row)
    return rows


def step_one(client, content: bytes, filename="leads.csv", **fields):
    data = {
        "vertical": "solar",
        "price": "12.50",
        "terms": "exclusive",
        "max_sales": "",
        "name": "",
        "csrf_token": csrf_token(client, "/seller/batches/new"),
    } | fields
    data["file"] = (io.BytesIO(content), filename)
    return client.post("/seller/batches/new", data=data, content_type="multipart/form-data")


def token_of(response) -> str:
    """The staging token in step 1's redirect to ``/seller/batches/new/<token>/map``."""
    return re.fullmatch(r"/seller/batches/new/([0-9a-f]{32})/map", response.headers["Location"])[1]


def staged_file(app, token: str) -> Path:
    """Where a staged upload's file is: the token names it; the cookie never holds a path."""
    uploads = app.config["UPLOAD_DIR"] or Path(app.config["INSTANCE_DIR"]) / "uploads"
    return Path(uploads) / "staging" / f"{token}.csv"


def select_for(page: str, header: str) -> tuple[str, str]:
    """(field name, selected value) of the mapping drop-down labelled ``header``."""
    label = re.search(rf'<label[^>]*for="(col_\d+)"[^>]*>{re.escape(header)}</label>', page)
    assert label, f"no drop-down for {header!r}"
    name = label.group(1)
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    selected = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', select_html)
    return name, selected.group(1) if selected else None


def step_two(client, map_url: str, mapping: dict):
    """Post the mapping step; ``mapping`` is header -> Leadex column ("" keeps it as extra)."""
    page = client.get(map_url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, map_url)}
    for header, column in mapping.items():
        data[select_for(page, header)[0]] = column
    return client.post(map_url, data=data)


def upload_mapped(client, content: bytes, mapping: dict, **fields):
    first = step_one(client, content, **fields)
    assert first.status_code == 302, first.get_data(as_text=True)
    return step_two(client, first.headers["Location"], mapping)


def batch_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Batch))


def make_batch(user, rows, header=None, **terms):
    return services.create_csv_batch(
        user=user,
        stream=io.BytesIO(csv_bytes(rows, header=header)),
        filename="leads.csv",
        vertical="solar",
        price_cents=terms.pop("price_cents", 1000),
        **terms,
    )


def test_staged_uploads_follow_the_configured_upload_dir(app, client, seller, tmp_path):
    """Step 1 keeps the file where batches are kept, so UPLOAD_DIR moves both."""
    previous = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    try:
        log_in(client, seller)
        first = step_one(client, csv_bytes(mail_rows(2), header=MAIL_HEADER))
        assert first.status_code == 302
        staged_path = tmp_path / "uploads" / "staging" / f"{token_of(first)}.csv"
        assert staged_file(app, token_of(first)) == staged_path and staged_path.exists()
        created = step_two(client, first.headers["Location"], {"Mail": "email"})
        assert created.status_code == 302 and not staged_path.exists()
    finally:
        app.config["UPLOAD_DIR"] = previous


def test_upload_with_a_mapped_column_creates_the_batch_and_remembers_the_mapping(
    app, client, seller
):
    log_in(client, seller)
    first = step_one(
        client,
        csv_bytes(mail_rows(5), header=MAIL_HEADER),
        terms="shared",
        max_sales="3",
        name="June solar",
    )
    assert first.status_code == 302
    map_url = first.headers["Location"]
    assert re.fullmatch(r"/seller/batches/new/[0-9a-f]{32}/map", map_url)
    with client.session_transaction() as sess:
        (staged,) = sess["staged_uploads"].values()
    staged_path = (
        Path(app.config["INSTANCE_DIR"]) / "uploads" / "staging" / f"{token_of(first)}.csv"
    )
    assert staged_file(app, token_of(first)) == staged_path and staged_path.exists()
    assert staged["price_cents"] == 1250 and staged["max_sales"] == 3

    page = client.get(map_url).get_data(as_text=True)
    assert "Still missing" in page and "email or phone" in page
    assert select_for(page, "Mail")[1] == ""  # "keep as extra data" until the seller picks

    created = step_two(client, map_url, {"Mail": "email"})
    assert created.status_code == 302
    batch_id = int(re.fullmatch(r"/seller/batches/(\d+)", created.headers["Location"]).group(1))
    assert not staged_path.exists()
    with client.session_transaction() as sess:
        assert sess["staged_uploads"] == {}

    batch = db.session.get(Batch, batch_id)
    assert batch.status == "spot_check" and batch.accepted_count == 5
    assert (batch.name, batch.price_cents, batch.max_sales) == ("June solar", 1250, 3)
    emails = db.session.scalars(select(Lead.email).where(Lead.batch_id == batch_id)).all()
    assert sorted(emails) == [f"maria.lopez{n}@gmail.com" for n in range(5)]
    assert services.seller_account(seller.organization_id).column_map == {"Mail": "email"}

    # The next upload's mapping step starts from the remembered choice.
    again = step_one(client, csv_bytes(mail_rows(3, start=10), header=MAIL_HEADER))
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert select_for(page, "Mail")[1] == "email"
    assert "Still missing" not in page


def test_missing_required_column_blocks_step_two(client, seller):
    log_in(client, seller)
    header = [h for h in MAIL_HEADER if h != "last_name"]
    response = upload_mapped(client, csv_bytes(mail_rows(3), header=header), {"Mail": "email"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The batch was not created" in page
    assert "The file has no column for: last_name." in page
    assert batch_count() == 0
    # Leaving the unknown column unmapped is refused too: no email and no phone.
    again = upload_mapped(client, csv_bytes(mail_rows(3), header=MAIL_HEADER), {"Mail": ""})
    assert again.status_code == 422
    assert "email or phone" in again.get_data(as_text=True)
    assert batch_count() == 0


def test_mapping_two_headers_to_one_column_is_refused(client, seller):
    log_in(client, seller)
    rows = [good_row(n) | {"Mail": f"other{n}@gmail.com"} for n in range(2)]
    header = [*MAIL_HEADER, "email"]
    response = upload_mapped(client, csv_bytes(rows, header=header), {"Mail": "email"})
    assert response.status_code == 422
    assert "appears twice" in response.get_data(as_text=True)
    assert batch_count() == 0


def test_a_column_the_vertical_requires_can_be_mapped(client, seller, admin):
    services.update_vertical(actor=admin, slug="solar", required_columns=["roof_type"])
    log_in(client, seller)
    rows = [good_row(n) | {"Roof Type": "tile"} for n in range(3)]
    first = step_one(client, csv_bytes(rows, header=[*good_row(0).keys(), "Roof Type"]))
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Still missing: <strong>roof_type</strong>" in page
    assert '<optgroup label="This vertical">' in page
    created = step_two(client, first.headers["Location"], {"Roof Type": "roof_type"})
    assert created.status_code == 302
    batch = db.session.scalar(select(Batch))
    assert batch.accepted_count == 3
    extras = db.session.scalars(select(Lead.extra).where(Lead.batch_id == batch.id)).all()
    assert extras == [{"roof_type": "tile"}] * 3


def test_abandoned_uploads_are_dropped_beyond_five(app, client, seller):
    log_in(client, seller)
    tokens = []
    for n in range(7):
        response = step_one(client, csv_bytes([good_row(n)]))
        tokens.append(response.headers["Location"].split("/")[-2])
    with client.session_transaction() as sess:
        staged = sess["staged_uploads"]
    assert sorted(staged) == sorted(tokens[2:])  # the two oldest went
    assert [staged_file(app, t).exists() for t in tokens] == [False] * 2 + [True] * 5
    assert client.get(f"/seller/batches/new/{tokens[0]}/map").status_code == 404


def test_step_one_checks_price_and_terms_and_converts_dollars_exactly(client, seller):
    log_in(client, seller)
    content = csv_bytes([good_row(1)])
    for fields, message in [
        ({"price": "0"}, "A price from $0.01 to $10,000.00."),
        ({"price": "10000.01"}, "A price from $0.01 to $10,000.00."),
        ({"price": "NaN"}, "A price from $0.01 to $10,000.00."),
        ({"price": "1.005"}, "Whole cents only"),
        ({"price": "abc"}, "Not a valid decimal value"),
        ({"terms": "shared", "max_sales": "1"}, "A shared lead goes to 2 to 20 buyers."),
        ({"terms": "shared", "max_sales": "21"}, "A shared lead goes to 2 to 20 buyers."),
        ({"terms": "shared", "max_sales": ""}, "A shared lead goes to 2 to 20 buyers."),
        ({"vertical": "no-such-vertical"}, "Not a valid choice"),
    ]:
        response = step_one(client, content, **fields)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    not_csv = step_one(client, content, filename="leads.xlsx")
    assert not_csv.status_code == 422 and "Upload a .csv file." in not_csv.get_data(as_text=True)

    # 0.29 * 100 is 28.999... in floats; the price is converted in Decimal.
    for price, cents in [("0.29", 29), ("19.99", 1999), ("10000.00", 1_000_000), ("7", 700)]:
        response = step_one(client, content, price=price, terms="exclusive", max_sales="x")
        assert response.status_code == 302, price
        token = response.headers["Location"].split("/")[-2]
        with client.session_transaction() as sess:
            staged = sess["staged_uploads"][token]
        assert (staged["price_cents"], staged["max_sales"]) == (cents, 1)


def test_unreadable_file_goes_back_to_step_one(app, client, seller):
    log_in(client, seller)
    first = step_one(client, "first_name,last_name\nJos\xe9,Lopez\n".encode("latin-1"))
    staged_path = staged_file(app, token_of(first))
    assert staged_path.exists()
    response = client.get(first.headers["Location"])
    assert response.status_code == 302 and response.headers["Location"] == "/seller/batches/new"
    assert "not UTF-8" in client.get("/seller/batches/new").get_data(as_text=True)
    assert not staged_path.exists()
    assert client.get(first.headers["Location"]).status_code == 404


def test_staged_upload_belongs_to_its_user(client, seller):
    log_in(client, seller)
    first = step_one(client, csv_bytes([good_row(1)]))
    map_url = first.headers["Location"]
    assert client.get(map_url).status_code == 200
    assert client.get("/seller/batches/new/" + "0" * 32 + "/map").status_code == 404
    # Another seller signing in on the same browser does not get the first one's upload.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, make_user("seller"))
    assert client.get(map_url).status_code == 404


def test_posts_without_csrf_token_are_refused(client, seller):
    log_in(client, seller)
    response = client.post(
        "/seller/batches/new",
        content_type="multipart/form-data",
        data={
            "file": (io.BytesIO(csv_bytes([good_row(1)])), "leads.csv"),
            "vertical": "solar",
            "price": "10",
            "terms": "exclusive",
        },
    )
    assert response.status_code == 400
    first = step_one(client, csv_bytes([good_row(1)]))
    assert client.post(first.headers["Location"], data={}).status_code == 400
    assert batch_count() == 0


def test_seller_pages_are_for_sellers(client, buyer, seller):
    assert client.get("/seller/batches").status_code == 302  # to the log-in page
    log_in(client, buyer)
    for path in ("/seller/batches", "/seller/batches/new"):
        response = client.get(path)
        assert response.status_code == 403
        assert "You may not open this page" in response.get_data(as_text=True)
    batch = make_batch(seller, [good_row(1)])
    assert client.get(f"/seller/batches/{batch.id}").status_code == 403


def test_other_sellers_get_404_and_admins_may_look(client, seller, admin):
    batch = make_batch(seller, [good_row(1), good_row(2, country="XX")])
    paths = [
        f"/seller/batches/{batch.id}",
        f"/seller/batches/{batch.id}/rejections.csv",
        f"/seller/batches/{batch.id}/leads",
        f"/seller/batches/{batch.id}/status.json",
    ]
    log_in(client, make_user("seller"))
    for path in paths:
        response = client.get(path)
        assert response.status_code == 404, path
        response.close()
    assert "Page not found" in client.get(paths[0]).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, admin)
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


def test_batch_page_shows_progress_counts_and_rejections(client, seller):
    rows = [good_row(n) for n in range(4)] + [good_row(10, country="XX"), good_row(1)]
    batch = make_batch(seller, rows, max_sales=4, price_cents=123456)
    log_in(client, seller)
    page = client.get(f"/seller/batches/{batch.id}").get_data(as_text=True)
    assert '<div class="progress-bar" style="width: 100%">' in page
    assert "6</span> rows processed" in page
    counts = dict(re.findall(r'data-count="(\w+)">([\d,]+)<', page))
    assert counts == {
        "rows": "6",
        "accepted": "4",
        "rejected": "1",
        "duplicates": "1",
        "listed": "0",
        "sold": "0",
    }
    assert "$1,234.56 per lead" in page and "up to 4 buyers" in page
    # Verification drew the sample at once: 4 accepted rows are inspected whole (n = 4, 0/1).
    assert '<div class="stat-label">Sample size</div><div class="stat-value">4<' in page
    assert "invalid_country" in page and "duplicate_in_batch" in page
    assert "Download rejections (CSV)" in page
    assert "js/batch.js" not in page  # nothing to poll once processing is over


def test_batch_page_shows_spot_check_figures(client, seller):
    batch = make_batch(seller, [good_row(n) for n in range(3)])
    figures = {
        "sample_size": 13,
        "accept_number": 1,
        "reject_number": 2,
        "inspected": 5,
        "defects": 0,
        "decision": None,
    }
    db.session.execute(update(Batch).where(Batch.id == batch.id).values(decision=figures))
    db.session.commit()
    log_in(client, seller)
    page = client.get(f"/seller/batches/{batch.id}").get_data(as_text=True)
    assert "Waiting for spot-check" not in page
    values = re.findall(
        r'<div class="stat-label">([^<]+)</div><div class="stat-value">([^<]+)<', page
    )
    assert values[:5] == [
        ("Sample size", "13"),
        ("Accept with ≤ defects", "1"),
        ("Reject from defects", "2"),
        ("Inspected", "5"),
        ("Defects", "0"),
    ]
    assert "pending" in page
    figures["decision"] = "accepted"
    db.session.execute(
        update(Batch).where(Batch.id == batch.id).values(decision=figures, status="listed")
    )
    db.session.commit()
    page = client.get(f"/seller/batches/{batch.id}").get_data(as_text=True)
    assert 'badge-ok badge-large">accepted<' in page


def test_failed_batch_shows_its_error(client, seller):
    batch = make_batch(seller, [good_row(1)], header=["first_name", "email"])
    log_in(client, seller)
    page = client.get(f"/seller/batches/{batch.id}").get_data(as_text=True)
    assert batch.status == "failed"
    assert 'class="flash flash-error"' in page and "The file has no column for" in page


def test_processing_batch_page_polls_its_status(client, seller):
    batch = make_batch(seller, [good_row(1)])
    db.session.execute(
        update(Batch).where(Batch.id == batch.id).values(status="processing", processed_rows=0)
    )
    db.session.commit()
    log_in(client, seller)
    page = client.get(f"/seller/batches/{batch.id}").get_data(as_text=True)
    assert '<script src="/static/js/batch.js"></script>' in page
    assert f'data-status-url="/seller/batches/{batch.id}/status.json"' in page
    assert '<div class="progress-bar" style="width: 0%">' in page
    script = client.get("/static/js/batch.js")
    assert script.status_code == 200 and b"location.reload" in script.data
    script.close()


def test_status_json_gives_counts(client, seller):
    batch = make_batch(
        seller, [good_row(1), good_row(2), good_row(3, email="x@mailinator.com", phone="")]
    )
    log_in(client, seller)
    response = client.get(f"/seller/batches/{batch.id}/status.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "spot_check"
    assert body["progress"] == {"processed": 3, "total": 3}
    assert body["counts"] == {
        "rows": 3,
        "accepted": 2,
        "rejected": 1,
        "duplicates": 0,
        "listed": 0,
        "sold": 0,
    }


def test_rejections_csv_starts_with_the_header_and_defuses_formulas(client, seller):
    rows = [good_row(1), good_row(2, **{"=cmd": "x" * 1001}), good_row(3, country="XX")]
    header = [*good_row(0).keys(), "=cmd"]
    batch = make_batch(seller, rows, header=header)
    log_in(client, seller)
    response = client.get(f"/seller/batches/{batch.id}/rejections.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffrow,field,code,message\r\n")
    records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert records[1][:3] == ["2", "'=cmd", "too_long"]
    assert records[2][:3] == ["3", "country", "invalid_country"]
    assert not any(cell.startswith("=") for record in records for cell in record)


def test_rejections_and_leads_are_paged_by_fifty(client, seller):
    rows = [good_row(n) for n in range(55)] + [good_row(100 + n, country="XX") for n in range(55)]
    batch = make_batch(seller, rows)
    log_in(client, seller)
    page = client.get(f"/seller/batches/{batch.id}").get_data(as_text=True)
    assert page.count("invalid_country</span>") == 50
    next_url = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    rest = client.get(next_url).get_data(as_text=True)
    assert rest.count("invalid_country</span>") == 5 and 'rel="next"' not in rest

    leads = client.get(f"/seller/batches/{batch.id}/leads").get_data(as_text=True)
    assert leads.count('class="lead-name"') == 50
    next_url = re.search(r'href="([^"]+)" rel="next"', leads).group(1).replace("&amp;", "&")
    assert client.get(next_url).get_data(as_text=True).count('class="lead-name"') == 5
    assert client.get(f"/seller/batches/{batch.id}/leads?cursor=nonsense").status_code == 422


def test_html_in_names_is_escaped(client, seller):
    rows = [
        good_row(1, last_name="O'Brien & <Sons>"),
        good_row(2, last_name="O'Hara & Co"),
        good_row(3, first_name="Ana", job_title="<b>CEO</b>", company="Acme"),
    ]
    batch = make_batch(seller, rows, header=[*good_row(0).keys(), "job_title", "company"])
    lead = db.session.scalar(
        select(Lead).where(Lead.batch_id == batch.id, Lead.first_name == "Ana")
    )
    # Intake refuses "<" in names; a name stored by any other path must still be inert.
    db.session.execute(
        update(Lead).where(Lead.id == lead.id).values(last_name='<script>alert("x")</script>')
    )
    db.session.commit()
    log_in(client, seller)

    leads = client.get(f"/seller/batches/{batch.id}/leads").get_data(as_text=True)
    assert "<script>alert" not in leads and "<b>CEO</b>" not in leads
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in leads
    assert "&lt;b&gt;CEO&lt;/b&gt;" in leads
    assert "O&#39;Hara &amp; Co" in leads
    page = client.get(f"/seller/batches/{batch.id}").get_data(as_text=True)
    assert "<Sons>" not in page and "&amp; &lt;Sons&gt;" in page  # in the rejection message


def test_leads_page_shows_contact_stage_score_and_flags(client, seller):
    rows = [
        good_row(1, lead_type="SQL", city="Oakland"),
        good_row(
            2, has_budget="yes", is_decision_maker="yes", need="New roof", timeline="immediate"
        ),
    ]
    batch = make_batch(
        seller,
        rows,
        header=[
            *good_row(0).keys(),
            "lead_type",
            "has_budget",
            "is_decision_maker",
            "need",
            "timeline",
        ],
    )
    log_in(client, seller)
    page = client.get(f"/seller/batches/{batch.id}/leads").get_data(as_text=True)
    assert "maria.lopez1@gmail.com" in page and "Oakland" in page and "94103" in page
    assert re.search(r"\+1415\d+", page)
    assert "fixed line or mobile" in page
    assert "claimed stage unsupported" in page
    assert page.count("claimed stage unsupported</span>") == 1
    assert "4/4" in page and ">SQL<" in page
    assert re.search(r'badge-(hot|warm|cold)">(hot|warm|cold)<', page)


def test_batches_list_dashboard_card_and_navigation(client, seller):
    log_in(client, seller)
    empty = client.get("/seller/batches").get_data(as_text=True)
    assert "No batches yet" in empty and 'href="/seller/batches/new"' in empty
    make_batch(
        seller, [good_row(1), good_row(2)], name="First <file>", max_sales=5, price_cents=2599
    )
    make_batch(seller, [good_row(3)], name="Second file")
    page = client.get("/seller/batches").get_data(as_text=True)
    assert page.index("Second file") < page.index("First &lt;file&gt;")  # newest first
    assert "$25.99" in page and "$10.00" in page and "up to 5 buyers" in page
    assert "Exclusive" in page and "spot check" in page and "Solar" in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "2 batches, 3 leads accepted" in dashboard
    assert dashboard.count('href="/seller/batches/new">Upload</a>') == 1
    assert dashboard.count('href="/seller/batches">Batches</a>') == 1


def test_batches_list_is_paged(client, seller):
    solar = services.get_vertical("solar")
    for n in range(51):
        db.session.add(
            Batch(
                seller_id=seller.organization_id,
                vertical_id=solar.id,
                name=f"b{n}",
                price_cents=100,
                max_sales=1,
                status="failed",
                source_format="csv",
            )
        )
    db.session.commit()
    log_in(client, seller)
    page = client.get("/seller/batches").get_data(as_text=True)
    assert page.count("badge-status") == 50
    next_url = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    assert client.get(next_url).get_data(as_text=True).count("badge-status") == 1
