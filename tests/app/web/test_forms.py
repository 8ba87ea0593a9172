"""The one handler of form posts' errors (app/web/forms.py)."""

import uuid

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, StringField

from app.errors import AppError, Conflict, Forbidden, Invalid, NotFound, ServiceUnavailable
from app.extensions import db
from app.web.forms import errors_onto_form, form_post, redirect_to, renew_request_id


class AmountForm(Form):
    amount = StringField("Amount")
    email = StringField("Email")
    request_id = HiddenField()


@pytest.mark.unit
def test_details_go_beside_the_fields_they_name_through_renames():
    form = AmountForm()
    placed = errors_onto_form(
        form,
        {"amount_cents": ["Too much."], "email": "Taken.", "payout_id": 7, "available": 40},
        rename={"amount_cents": "amount"},
    )
    assert placed
    assert form.amount.errors == ["Too much."] and form.email.errors == ["Taken."]


@pytest.mark.unit
def test_details_naming_no_field_go_to_the_default_field_or_nowhere():
    form = AmountForm()
    assert not errors_onto_form(form, {"top_up_id": 3, "payment_method": ["No card."]})
    assert form.amount.errors == () and form.email.errors == ()
    assert errors_onto_form(form, {"password": ["Too short."]}, default="email")
    assert form.email.errors == ["Too short."]
    assert not errors_onto_form(form, {}) and not errors_onto_form(form, None)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("error", "renewed"),
    [
        (Invalid(), True),
        (Conflict(), True),
        (AppError(), True),
        (type("ProviderError", (AppError,), {"status_code": 502})(), True),
        (ServiceUnavailable(), False),
    ],
)
def test_a_refused_request_gets_a_new_id_and_a_503_keeps_it_for_the_retry(error, renewed):
    form = AmountForm(data={"request_id": "a" * 32})
    renew_request_id(form, error)
    assert (form.request_id.data != "a" * 32) is renewed
    if renewed:
        uuid.UUID(form.request_id.data)


class NoteForm(FlaskForm):
    note = StringField("Note")


@pytest.fixture
def tiny_app():
    """An app of one form page whose service raises the error the test names."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test", WTF_CSRF_ENABLED=False, SQLALCHEMY_DATABASE_URI="sqlite://"
    )
    db.init_app(app)
    raised = {}

    def page(form, **view_args):
        return render_template_string(
            "{% for m in get_flashed_messages() %}[{{ m }}]{% endfor %}"
            "{{ form.note() }}{% for e in form.note.errors %}<{{ e }}>{% endfor %}",
            form=form,
        )

    @app.route("/note", methods=["GET", "POST"])
    @form_post(NoteForm, page=page)
    def note(form):
        if "error" in raised:
            raise raised["error"]
        return "saved"

    @app.post("/elsewhere")
    @form_post(None, page=redirect_to("note"))
    def elsewhere():
        raise raised["error"]

    app.raised = raised
    return app


def test_a_service_error_of_a_post_is_flashed_on_the_form_with_the_typed_value(tiny_app):
    tiny_app.raised["error"] = Invalid("Say more.", details={"note": ["At least 3 characters."]})
    response = tiny_app.test_client().post("/note", data={"note": "hi"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "[Say more.]" in body and "<At least 3 characters.>" in body
    assert 'value="hi"' in body


def test_a_form_without_a_page_of_its_own_goes_back_with_the_message(tiny_app):
    tiny_app.raised["error"] = Conflict("Already done.")
    client = tiny_app.test_client()
    response = client.post("/elsewhere")
    assert response.status_code == 302 and response.headers["Location"] == "/note"
    with client.session_transaction() as session:
        assert session["_flashes"] == [("error", "Already done.")]


@pytest.mark.parametrize("error", [NotFound(), Forbidden()])
def test_page_errors_and_gets_are_left_to_the_error_pages(tiny_app, error):
    tiny_app.raised["error"] = error
    client = tiny_app.test_client()
    tiny_app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(type(error)):
        client.post("/note", data={"note": "hi"})
    tiny_app.raised["error"] = Conflict()
    with pytest.raises(Conflict):
        client.get("/note")
    with client.session_transaction() as session:
        assert "_flashes" not in session  # nothing was flashed for an error page
