"""Row checks: each rejection code, normalisation, any-script names, hostile and mistyped input."""

from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email

from verification.rules.checks import CheckContext, CheckedRow, Rejection, check_row
from verification.rules.columns import LEAD_COLUMNS, REQUIRED_COLUMNS, canonical_header
from verification.rules.postal import is_valid_postal_code, normalize_postal_code, postal_prefix

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CAPTURED = "2026-11-20T10:00:00Z"


def make_row(**overrides) -> dict:
    row = {
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane.doe@example.com",
        "phone": "(201) 555-0123",
        "country": "US",
        "captured_at": CAPTURED,
        "consent_text": "I agree to be contacted by Acme about insurance.",
        "consented_at": CAPTURED,
    }
    row.update(overrides)
    return {key: value for key, value in row.items() if value is not _DROP}


_DROP = object()


def ctx(**overrides) -> CheckContext:
    return CheckContext(now=NOW, **overrides)


def codes(result: CheckedRow) -> list[tuple[str, str]]:
    return [(rejection.field, rejection.code) for rejection in result.rejections]


def test_clean_row_passes_with_every_value_key_present():
    result = check_row(make_row(), ctx())

    assert result.ok
    assert result.rejections == []
    expected_keys = set(LEAD_COLUMNS) | {
        "email_domain",
        "email_status",
        "phone_type",
        "phone_confirmed_mobile",
        "postal_prefix",
        "extra",
    }
    assert set(result.values) == expected_keys
    assert result.values["email"] == "jane.doe@example.com"
    assert result.values["email_domain"] == "example.com"
    assert result.values["email_status"] == "valid"
    assert result.values["phone"] == "+12015550123"
    assert result.values["phone_type"] == "fixed_line_or_mobile"
    assert result.values["phone_confirmed_mobile"] is False
    assert result.values["captured_at"] == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert result.values["interest_signals"] == []
    assert result.values["extra"] == {}
    assert result.values["company"] is None


def test_required_columns_are_the_header_minimum():
    assert REQUIRED_COLUMNS == (
        "first_name",
        "last_name",
        "country",
        "captured_at",
        "consent_text",
        "consented_at",
    )
    assert LEAD_COLUMNS[:4] == ("first_name", "last_name", "email", "phone")
    assert LEAD_COLUMNS[-1] == "interest_signals"
    assert len(LEAD_COLUMNS) == len(set(LEAD_COLUMNS)) == 29


# One row per rejection code check_row can give (duplicate and duplicate_in_batch need the
# database and the batch, so intake gives those).
REJECTIONS = [
    ("first_name_missing", {"first_name": _DROP}, {}, "first_name", "required"),
    ("last_name_blank", {"last_name": "   "}, {}, "last_name", "required"),
    ("country_missing", {"country": "", "phone": None}, {}, "country", "required"),
    ("captured_at_missing", {"captured_at": None}, {}, "captured_at", "required"),
    ("vertical_extra", {}, {"required_extra": ("loan_amount",)}, "loan_amount", "required"),
    ("name_wrong_type", {"first_name": 42}, {}, "first_name", "invalid_value"),
    ("captured_at_garbage", {"captured_at": "yesterday"}, {}, "captured_at", "invalid_value"),
    ("consented_at_garbage", {"consented_at": "31/12/2025"}, {}, "consented_at", "invalid_value"),
    ("lead_type", {"lead_type": "HOT"}, {}, "lead_type", "invalid_value"),
    ("timeline", {"timeline": "soon"}, {}, "timeline", "invalid_value"),
    ("priority", {"priority": "urgent"}, {}, "priority", "invalid_value"),
    ("yes_no", {"has_budget": "maybe"}, {}, "has_budget", "invalid_value"),
    ("budget_negative", {"budget_cents": "-500"}, {}, "budget_cents", "invalid_value"),
    ("budget_decimal", {"budget_cents": "12.50"}, {}, "budget_cents", "invalid_value"),
    (
        "signals",
        {"interest_signals": "webinar;cold_call"},
        {},
        "interest_signals",
        "invalid_value",
    ),
    ("consent_ip", {"consent_ip": "999.1.1.1"}, {}, "consent_ip", "invalid_value"),
    ("consent_url", {"consent_url": "javascript:alert(1)"}, {}, "consent_url", "invalid_value"),
    ("email_syntax", {"email": "jane@example"}, {}, "email", "invalid_email"),
    ("email_no_at", {"email": "jane.example.com"}, {}, "email", "invalid_email"),
    ("disposable", {"email": "bob@mailinator.com"}, {}, "email", "disposable_email"),
    ("phone_short", {"phone": "12345"}, {}, "phone", "invalid_phone"),
    ("phone_letters", {"phone": "call me"}, {}, "phone", "invalid_phone"),
    ("placeholder", {"first_name": "test"}, {}, "first_name", "placeholder_name"),
    ("country_unknown", {"country": "XX", "phone": None}, {}, "country", "invalid_country"),
    ("country_alpha3", {"country": "USA", "phone": None}, {}, "country", "invalid_country"),
    ("postal", {"postal_code": "1234"}, {}, "postal_code", "invalid_postal_code"),
    ("captured_future", {"captured_at": "2026-11-23T13:00:00Z"}, {}, "captured_at", "future_date"),
    ("consent_future", {"consented_at": "2027-01-01"}, {}, "consented_at", "future_date"),
    (
        "captured_old",
        {"captured_at": "2026-08-24T11:59:00Z", "consented_at": "2026-08-24T11:59:00Z"},
        {},
        "captured_at",
        "too_old",
    ),
    ("consent_text", {"consent_text": _DROP}, {}, "consent_text", "consent_missing"),
    ("consented_at", {"consented_at": ""}, {}, "consented_at", "consent_missing"),
    (
        "consent_late",
        {"consented_at": "2026-11-21T10:00:01Z"},
        {},
        "consented_at",
        "consent_inconsistent",
    ),
    (
        "suppressed_email",
        {},
        {"suppressed_emails": frozenset({"jane.doe@example.com"})},
        "email",
        "suppressed",
    ),
    (
        "suppressed_phone",
        {},
        {"suppressed_phones": frozenset({"+12015550123"})},
        "phone",
        "suppressed",
    ),
    ("name_too_long", {"first_name": "A" * 101}, {}, "first_name", "too_long"),
    ("value_too_long", {"need": "x" * 1001}, {}, "need", "too_long"),
]


@pytest.mark.parametrize(
    ("overrides", "context", "field", "code"),
    [case[1:] for case in REJECTIONS],
    ids=[case[0] for case in REJECTIONS],
)
def test_each_rule_rejects_with_its_field_and_code(overrides, context, field, code):
    result = check_row(make_row(**overrides), ctx(**context))

    assert codes(result) == [(field, code)]
    rejection = result.rejections[0]
    assert isinstance(rejection, Rejection)
    assert field in rejection.message


def test_every_check_row_code_is_covered():
    covered = {case[4] for case in REJECTIONS}
    assert covered == {
        "required",
        "invalid_value",
        "invalid_email",
        "disposable_email",
        "invalid_phone",
        "placeholder_name",
        "invalid_country",
        "invalid_postal_code",
        "future_date",
        "too_old",
        "consent_missing",
        "consent_inconsistent",
        "suppressed",
        "too_long",
    }


def test_missing_email_and_phone_is_one_rejection_on_email():
    result = check_row(make_row(email=_DROP, phone=""), ctx())

    assert codes(result) == [("email", "required")]
    assert result.rejections[0].message == "email or phone is required"


def test_either_email_or_phone_is_enough():
    assert check_row(make_row(email=None), ctx()).ok
    assert check_row(make_row(phone=None), ctx()).ok


def test_all_failing_fields_are_listed_once_each():
    row = make_row(
        first_name="asdf",
        email="x@mailinator.com",
        phone="1",
        country="ZZ",
        captured_at="later",
        consent_text=None,
    )
    result = check_row(row, ctx())

    assert codes(result) == [
        ("first_name", "placeholder_name"),
        ("country", "invalid_country"),
        ("email", "disposable_email"),
        ("phone", "invalid_phone"),
        ("captured_at", "invalid_value"),
        ("consent_text", "consent_missing"),
    ]


def test_rejection_message_names_field_and_value():
    result = check_row(make_row(email="bob@mailinator.com"), ctx())

    assert result.rejections[0].message == "email 'bob@mailinator.com' uses a disposable domain"


def test_uk_gets_a_hint_towards_gb():
    result = check_row(make_row(country="UK", phone=None), ctx())

    assert codes(result) == [("country", "invalid_country")]
    assert "GB" in result.rejections[0].message


# -- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "محمد",
        "رضا",
        "فاطمه‌زهرا",
        "Çağrı",
        "Şahin",
        "Yılmaz",
        "王",
        "李小龙",
        "Nguyễn",
        "O'Brien",
        "Jean-Luc",
        "Doe",
        "Ng",
        "Na",
        "Yui",
        "Tre",
        "Lulu",
        "Anna",
        "José María",
    ],
)
def test_real_names_in_any_script_pass(name):
    result = check_row(make_row(first_name=name, last_name=name), ctx())

    assert result.ok, result.rejections
    assert result.values["first_name"] == name


@pytest.mark.parametrize(
    "name",
    [
        "test",
        "TEST",
        "Test123",
        "testtest",
        "asdf",
        "asdfgh",
        "qwerty",
        "zxcv",
        "asdasd",
        "n/a",
        "N/A",
        "N.A.",
        "none",
        "NULL",
        "unknown",
        "xxx",
        "XX",
        "aaaa",
        "12345",
        "...",
        "first name",
        "Last Name",
        "abc",
        "NaN",
    ],
)
def test_placeholder_names_are_rejected(name):
    result = check_row(make_row(last_name=name), ctx())

    assert codes(result) == [("last_name", "placeholder_name")]


@pytest.mark.parametrize(
    "name", ["=cmd|' /C calc'!A0", "<script>alert(1)</script>", "+1 555", "@SUM(A1)"]
)
def test_formula_and_markup_are_not_names(name):
    result = check_row(make_row(first_name=name), ctx())

    assert codes(result) == [("first_name", "invalid_value")]


def test_name_is_trimmed_and_may_be_100_characters():
    assert check_row(make_row(first_name="  Jane  "), ctx()).values["first_name"] == "Jane"
    assert check_row(make_row(last_name="Ab" * 50), ctx()).ok


# -- email ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored", "domain"),
    [
        ("Bob.Smith@EXAMPLE.COM", "Bob.Smith@example.com", "example.com"),
        ("  jane@Example.org ", "jane@example.org", "example.org"),
        ("user@BÜCHER.de", "user@bücher.de", "bücher.de"),
        ("user@xn--bcher-kva.de", "user@bücher.de", "bücher.de"),
        ("ñandú@example.com", "ñandú@example.com", "example.com"),
        ("Postmaster@Example.com", "postmaster@example.com", "example.com"),
    ],
)
def test_email_is_normalised_as_email_validator_does(given, stored, domain):
    result = check_row(make_row(email=given), ctx())

    assert result.values["email"] == stored
    assert result.values["email_domain"] == domain


@pytest.mark.parametrize(
    "email",
    [
        "plain@example.com",
        "MiXeD.Case+tag@Sub.Example.CO.UK",
        "o'reilly@example.ie",
        "a@b.co",
        "x" * 64 + "@example.com",
        "x" * 240 + "@example.com",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a b@example.com",
        "Jane <jane@example.com>",
        '"quoted"@example.com',
        "jane@example..com",
        "jane@-example.com",
        "jane@example.com.",
        "jane@localhost",
        "jane@example.invalid",
        "jane@[127.0.0.1]",
        "jane@a@b.com",
        "jane@éxample.com",
        "jane@xn--ls8h.la",
        "INFO@example.com",
        "jane@" + "a" * 64 + ".com",
        "jane@" + ("a" * 60 + ".") * 4 + "com",
    ],
)
def test_email_result_matches_email_validator(email):
    """The per-domain cache and ASCII fast path must agree with email_validator exactly."""
    result = check_row(make_row(email=email), ctx())
    try:
        expected = validate_email(email, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        assert codes(result) == [("email", "invalid_email")]
        assert result.values["email"] is None
    else:
        assert result.ok, result.rejections
        assert result.values["email"] == expected.normalized


@pytest.mark.parametrize(
    ("email", "status"),
    [
        ("info@acme.com", "role"),
        ("Sales@Acme.com", "role"),
        ("no-reply@acme.com", "role"),
        ("noreply@acme.com", "role"),
        ("support+leads@acme.com", "role"),
        ("hello@acme.com", "role"),
        ("jane@acme.com", "valid"),
        ("information.desk.jane@acme.com", "valid"),
    ],
)
def test_role_accounts_are_kept_and_flagged(email, status):
    result = check_row(make_row(email=email), ctx())

    assert result.ok
    assert result.values["email_status"] == status


@pytest.mark.parametrize(
    "email",
    ["bob@mailinator.com", "bob@MAILINATOR.COM", "bob@eu.mailinator.com", "x@guerrillamail.com"],
)
def test_disposable_domains_and_their_subdomains_are_rejected(email):
    result = check_row(make_row(email=email), ctx())

    assert codes(result) == [("email", "disposable_email")]
    assert result.values["email_status"] is None


def test_suppression_matches_a_lower_case_list():
    context = ctx(suppressed_emails={"jane.doe@example.com"})
    result = check_row(make_row(email="Jane.Doe@Example.com"), context)

    assert codes(result) == [("email", "suppressed")]


def test_undeliverable_email_is_invalid_when_the_check_is_plugged_in():
    checked = []

    def deliverable(email: str) -> bool:
        checked.append(email)
        return False

    result = check_row(make_row(email="Jane@Example.com"), ctx(deliverability=deliverable))

    assert codes(result) == [("email", "invalid_email")]
    assert "undeliverable" in result.rejections[0].message
    assert checked == ["Jane@example.com"]


def test_failing_deliverability_lookup_keeps_the_lead():
    def broken(email: str) -> bool:
        raise TimeoutError("dns down")

    assert check_row(make_row(), ctx(deliverability=broken)).ok


def test_deliverability_is_off_by_default():
    assert ctx().deliverability is None
    assert check_row(make_row(email="jane@no-such-domain-leadex-test.com"), ctx()).ok


# -- phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "national", "e164", "phone_type"),
    [
        ("US", "(201) 555-0123", "+12015550123", "fixed_line_or_mobile"),
        ("IR", "0912 345 6789", "+989123456789", "mobile"),
        ("IR", "021 2345 6789", "+982123456789", "fixed_line"),
        ("TR", "0501 234 56 78", "+905012345678", "mobile"),
        ("TR", "0212 345 67 89", "+902123456789", "fixed_line"),
        ("SA", "051 234 5678", "+966512345678", "mobile"),
        ("SA", "011 234 5678", "+966112345678", "fixed_line"),
        ("GB", "07400 123456", "+447400123456", "mobile"),
        ("GB", "0121 234 5678", "+441212345678", "fixed_line"),
        ("DE", "01512 3456789", "+4915123456789", "mobile"),
        ("DE", "030 123456", "+4930123456", "fixed_line"),
        ("BR", "(11) 96123-4567", "+5511961234567", "mobile"),
        ("IN", "081234 56789", "+918123456789", "mobile"),
    ],
)
def test_national_numbers_parse_with_the_lead_country(country, national, e164, phone_type):
    result = check_row(make_row(country=country.lower(), phone=national, email=None), ctx())

    assert result.ok, result.rejections
    assert result.values["country"] == country
    assert result.values["phone"] == e164
    assert result.values["phone_type"] == phone_type
    assert result.values["phone_confirmed_mobile"] is (phone_type == "mobile")


@pytest.mark.parametrize("phone", ["+44 7400 123456", "0044 7400 123456", "+447400123456"])
def test_international_numbers_parse_whatever_the_country(phone):
    result = check_row(make_row(country="US", phone=phone), ctx())

    assert result.ok
    assert result.values["phone"] == "+447400123456"


@pytest.mark.parametrize(
    ("country", "national", "e164", "phone_type"),
    [
        ("US", "(506) 234-5678", "+15062345678", "fixed_line_or_mobile"),
        ("US", "(787) 234-5678", "+17872345678", "fixed_line_or_mobile"),
        ("GB", "07797 712345", "+447797712345", "mobile"),
        ("GB", "07924 123456", "+447924123456", "mobile"),
        ("RU", "8 (771) 000 9998", "+77710009998", "mobile"),
    ],
)
def test_numbers_of_a_region_sharing_the_calling_code_are_valid(
    country, national, e164, phone_type
):
    """A Canadian number given for a US lead, a Jersey one for a GB lead: valid, as phonenumbers
    says, though not in the lead's own country's plan."""
    result = check_row(make_row(country=country, phone=national), ctx())

    assert result.ok, result.rejections
    assert result.values["phone"] == e164
    assert result.values["phone_type"] == phone_type


def test_phone_parses_without_a_region_when_the_country_is_invalid():
    good = check_row(make_row(country="XX", phone="+90 501 234 56 78"), ctx())
    national = check_row(make_row(country="XX", phone="0501 234 56 78"), ctx())

    assert codes(good) == [("country", "invalid_country")]
    assert good.values["phone"] == "+905012345678"
    assert codes(national) == [("country", "invalid_country"), ("phone", "invalid_phone")]


def test_line_type_lookup_can_confirm_a_mobile():
    looked_up = []

    def lookup(e164: str) -> str | None:
        looked_up.append(e164)
        return "Mobile"

    result = check_row(make_row(), ctx(line_type_lookup=lookup))

    assert looked_up == ["+12015550123"]
    assert result.values["phone_type"] == "fixed_line_or_mobile"
    assert result.values["phone_confirmed_mobile"] is True


def test_failing_line_type_lookup_leaves_the_number_unconfirmed():
    def lookup(e164: str) -> str | None:
        raise ConnectionError("carrier API down")

    result = check_row(make_row(), ctx(line_type_lookup=lookup))

    assert result.ok
    assert result.values["phone_confirmed_mobile"] is False


TYPE_NAMES = {
    getattr(phonenumbers.PhoneNumberType, name): name.lower()
    for name in dir(phonenumbers.PhoneNumberType)
    if name.isupper()
}


def phones_near_examples(region: str):
    """Every example number of the region, and neighbours of it that are often invalid."""
    for number_type in range(11):
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is None:
            continue
        for delta in (0, 7):
            number = phonenumbers.PhoneNumber(
                country_code=example.country_code,
                national_number=example.national_number + delta,
                italian_leading_zero=example.italian_leading_zero,
                number_of_leading_zeros=example.number_of_leading_zeros,
            )
            yield phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            yield phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_phone_checks_agree_with_plain_phonenumbers(region):
    """check_row's shortcuts (separators dropped before parsing, one classification for the main
    region of a shared calling code) give what parse, is_valid_number and number_type give."""
    for formatted in phones_near_examples(region):
        result = check_row(make_row(country=region, phone=formatted, email=None), ctx())
        try:
            parsed = phonenumbers.parse(formatted, region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            assert result.values["phone"] == e164, formatted
            assert result.values["phone_type"] == TYPE_NAMES[phonenumbers.number_type(parsed)]
        else:
            assert ("phone", "invalid_phone") in codes(result), formatted


# -- country, postal code, dates ------------------------------------------------------------


@pytest.mark.parametrize("country", ["us", " De ", "XK", "AQ", "ir", "sa", "tr"])
def test_countries_are_upper_cased_alpha_2(country):
    result = check_row(make_row(country=country, phone=None), ctx())

    assert result.ok
    assert result.values["country"] == country.strip().upper()


@pytest.mark.parametrize(
    ("country", "code", "stored", "prefix"),
    [
        ("US", "94105", "94105", "941"),
        ("US", "94105-1234", "94105-1234", "941"),
        ("CA", "k1a 0b1", "K1A 0B1", "K1A"),
        ("GB", "sw1a  1aa", "SW1A 1AA", "SW1"),
        ("GB", "M1 1AE", "M1 1AE", "M11"),
        ("DE", "10115", "10115", "101"),
        ("FR", "75001", "75001", "750"),
        ("ES", "28013", "28013", "280"),
        ("IT", "00184", "00184", "001"),
        ("NL", "1012 jS", "1012 JS", "101"),
        ("BE", "1000", "1000", "100"),
        ("AT", "1010", "1010", "101"),
        ("CH", "8001", "8001", "800"),
        ("AU", "2000", "2000", "200"),
        ("IN", "110001", "110001", "110"),
        ("BR", "01310-100", "01310-100", "013"),
        ("BR", "01310100", "01310100", "013"),
        ("TR", "34000", "34000", "340"),
        ("SA", "12345", "12345", "123"),
        ("SA", "12345-6789", "12345-6789", "123"),
        ("IR", "1234567890", "1234567890", "123"),
        ("IR", "12345-67890", "12345-67890", "123"),
        ("JP", "100-0001", "100-0001", "100"),
        ("SE", "114 55", "114 55", "114"),
        ("PL", "00-950", "00-950", "00-"),
        ("IE", "d02 x285", "D02 X285", "D02"),
        ("MX", "06600", "06600", "066"),
        ("ZA", "8001", "8001", "800"),
        ("AE", "anything goes", "ANYTHING GOES", "ANY"),
    ],
)
def test_postal_codes_fitting_their_country_are_normalised(country, code, stored, prefix):
    result = check_row(make_row(country=country, phone=None, postal_code=code), ctx())

    assert result.ok, result.rejections
    assert result.values["postal_code"] == stored
    assert result.values["postal_prefix"] == prefix


@pytest.mark.parametrize(
    ("country", "code"),
    [
        ("US", "9410"),
        ("US", "94105-12"),
        ("CA", "D1A 0B1"),
        ("GB", "SW1A 1A"),
        ("GB", "QQ1 1AA"),
        ("DE", "1011"),
        ("ES", "53001"),
        ("NL", "0123 AB"),
        ("IN", "011001"),
        ("BR", "1310-100"),
        ("TR", "3400"),
        ("SA", "1234"),
        ("IR", "12345"),
        ("JP", "1000001X"),
        ("PL", "009500"),
        ("IE", "B02 X285"),
        ("ZA", "80011"),
    ],
)
def test_postal_codes_not_fitting_their_country_are_rejected(country, code):
    result = check_row(make_row(country=country, phone=None, postal_code=code), ctx())

    assert codes(result) == [("postal_code", "invalid_postal_code")]


def test_postal_helpers():
    assert normalize_postal_code(" sw1a \t 1aa ") == "SW1A 1AA"
    assert is_valid_postal_code("XX", "whatever") is None
    assert postal_prefix(None) is None
    assert postal_prefix("a b") == "AB"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20 13:30:00+03:30", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, 0, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00.123456-05:00", datetime(2026, 11, 20, 15, 0, 0, 123456, UTC)),
    ],
)
def test_captured_at_is_stored_as_aware_utc(given, stored):
    result = check_row(make_row(captured_at=given, consented_at=given), ctx())

    assert result.ok, result.rejections
    assert result.values["captured_at"] == stored
    assert result.values["captured_at"].utcoffset() == timedelta(0)


def test_clock_skew_of_five_minutes_is_allowed():
    soon = (NOW + timedelta(minutes=4)).isoformat()
    later = (NOW + timedelta(minutes=6)).isoformat()

    assert check_row(make_row(captured_at=soon, consented_at=soon), ctx()).ok
    result = check_row(make_row(captured_at=later, consented_at=soon), ctx())
    assert codes(result) == [("captured_at", "future_date")]


def test_maximum_age_comes_from_the_vertical():
    old = (NOW - timedelta(days=31)).isoformat()
    row = make_row(captured_at=old, consented_at=old)

    assert check_row(row, ctx()).ok
    assert codes(check_row(row, ctx(max_age_days=30))) == [("captured_at", "too_old")]


def test_consent_up_to_a_day_after_capture_is_consistent():
    result = check_row(make_row(consented_at="2026-11-21T10:00:00Z"), ctx())

    assert result.ok


def test_consent_before_capture_is_fine():
    assert check_row(make_row(consented_at="2026-11-19T08:00:00+01:00"), ctx()).ok


def test_naive_now_is_taken_as_utc():
    assert check_row(make_row(), CheckContext(now=NOW.replace(tzinfo=None))).ok


def test_consent_fields_are_normalised():
    row = make_row(
        consent_ip="2001:DB8:0:0:0:0:0:1",
        consent_url="https://acme.example/quote?utm=x",
        consent_certificate="https://cert.trustedform.com/0123456789abcdef0123456789abcdef01234567",
    )
    result = check_row(row, ctx())

    assert result.ok
    assert result.values["consent_ip"] == "2001:db8::1"
    assert result.values["consent_url"] == "https://acme.example/quote?utm=x"


def test_leadid_token_is_a_certificate():
    row = make_row(consent_certificate="C8F4A9A2-7B1E-4E8B-9D7E-0A1B2C3D4E5F")

    assert check_row(row, ctx()).ok


# -- qualification answers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1-3 months", "1-3_months"),
        ("1 - 3 Months", "1-3_months"),
        ("12+ months", "12+_months"),
        ("3-6_months", "3-6_months"),
        ("IMMEDIATE", "immediate"),
        ("Unknown", "unknown"),
    ],
)
def test_timeline_spellings_are_normalised(given, stored):
    assert check_row(make_row(timeline=given), ctx()).values["timeline"] == stored


@pytest.mark.parametrize(
    ("given", "stored"), [("sql", "SQL"), ("Mql", "MQL"), ("UNQUALIFIED", "unqualified")]
)
def test_lead_type_is_case_insensitive(given, stored):
    assert check_row(make_row(lead_type=given), ctx()).values["lead_type"] == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("yes", True),
        ("Y", True),
        ("TRUE", True),
        ("1", True),
        (1, True),
        (True, True),
        ("no", False),
        ("n", False),
        ("False", False),
        ("0", False),
        (0, False),
        (False, False),
        ("", None),
    ],
)
def test_yes_no_answers(given, stored):
    result = check_row(make_row(has_budget=given, is_decision_maker=given), ctx())

    assert result.ok
    assert result.values["has_budget"] is stored
    assert result.values["is_decision_maker"] is stored


@pytest.mark.parametrize(
    ("given", "stored"), [("150000", 150000), (0, 0), (2500, 2500), ("١٢٣", 123), (" 7 ", 7)]
)
def test_budget_cents_accepts_whole_non_negative_numbers(given, stored):
    result = check_row(make_row(budget_cents=given), ctx())

    assert result.ok
    assert result.values["budget_cents"] == stored


@pytest.mark.parametrize("given", [-1, 1.5, 100.0, True, "1e3", "²", "9" * 20, 2**63])
def test_budget_cents_rejects_anything_else(given):
    result = check_row(make_row(budget_cents=given), ctx())

    assert codes(result) == [("budget_cents", "invalid_value")]
    assert result.values["budget_cents"] is None


def test_interest_signals_are_split_case_folded_and_deduplicated():
    row = make_row(interest_signals=" Demo_Request; webinar;;WEBINAR ;pricing_request")
    result = check_row(row, ctx())

    assert result.values["interest_signals"] == ["demo_request", "webinar", "pricing_request"]


def test_interest_signals_may_be_a_json_array():
    result = check_row(make_row(interest_signals=["free_trial", "webinar"]), ctx())

    assert result.ok
    assert result.values["interest_signals"] == ["free_trial", "webinar"]


# -- extra columns, headers -----------------------------------------------------------------


def test_unknown_columns_are_kept_in_extra_as_strings():
    row = make_row(
        **{"Loan Amount": " 5000 ", "empty": "  ", "count": 5, "flag": False, "tags": ["a", "b"]}
    )
    result = check_row(row, ctx(required_extra=("loan_amount",)))

    assert result.ok
    assert result.values["extra"] == {
        "Loan Amount": "5000",
        "count": "5",
        "flag": "false",
        "tags": '["a", "b"]',
    }


def test_loosely_spelled_canonical_keys_are_mapped():
    row = make_row(**{"Job Title": "CTO", "Company": "Acme"})
    result = check_row(row, ctx())

    assert result.values["job_title"] == "CTO"
    assert result.values["company"] == "Acme"
    assert result.values["extra"] == {}


def test_a_second_spelling_of_a_given_column_goes_to_extra():
    result = check_row(make_row(**{"First Name": "Janet"}), ctx())

    assert result.values["first_name"] == "Jane"
    assert result.values["extra"] == {"First Name": "Janet"}


def test_long_extra_value_is_too_long():
    result = check_row(make_row(notes="n" * 1001), ctx())

    assert codes(result) == [("notes", "too_long")]


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("First Name", "first_name"),
        ("first-name", "first_name"),
        ("FIRSTNAME", "first_name"),
        (" first_name ", "first_name"),
        ("\ufefffirst_name", "first_name"),
        ("E-Mail", "email"),
        ("Consented At", "consented_at"),
        ("interest signals", "interest_signals"),
        ("Budget-Cents", "budget_cents"),
        ("Phone Number", "Phone Number"),
        ("  Loan Amount ", "Loan Amount"),
        ("", ""),
    ],
)
def test_canonical_header(header, canonical):
    assert canonical_header(header) == canonical


# -- input that must never raise ------------------------------------------------------------

WRONG_TYPES = [123, 4.5, True, ["x"], {"a": 1}, [1, 2]]


def accepted(column: str, value: object) -> bool:
    if column in ("has_budget", "is_decision_maker"):
        return value is True
    return column == "budget_cents" and type(value) is int


@pytest.mark.parametrize("column", LEAD_COLUMNS)
@pytest.mark.parametrize("value", WRONG_TYPES, ids=lambda value: type(value).__name__)
def test_wrong_json_types_give_invalid_value_never_an_exception(column, value):
    result = check_row(make_row(**{column: value}), ctx())

    own = [rejection.code for rejection in result.rejections if rejection.field == column]
    # An exception inside the checks becomes a "row" rejection: that must never happen here.
    assert all(rejection.field != "row" for rejection in result.rejections), result.rejections
    if accepted(column, value):
        assert own == []
    else:
        assert own == ["invalid_value"], result.rejections
        assert result.values[column] in (None, [])


@pytest.mark.parametrize("column", LEAD_COLUMNS)
def test_null_is_absent(column):
    result = check_row(make_row(**{column: None}), ctx())

    assert all(rejection.code != "invalid_value" for rejection in result.rejections)


@pytest.mark.parametrize("raw", [None, [], "first_name,last_name", 42, ["a", "b"]])
def test_a_row_that_is_not_an_object_is_rejected(raw):
    result = check_row(raw, ctx())

    assert codes(result) == [("row", "invalid_value")]


def test_non_string_keys_go_to_extra():
    result = check_row({**make_row(), 7: "seven", None: "nothing"}, ctx())

    assert result.ok
    assert result.values["extra"] == {"7": "seven", "None": "nothing"}


def test_html_and_formulas_in_free_text_are_kept_verbatim():
    """Escaping is the renderer's and the CSV exporter's job; the value itself is legitimate."""
    row = make_row(company="<b>Acme</b> & Sons", need="=cmd|' /C calc'!A0")
    result = check_row(row, ctx())

    assert result.ok
    assert result.values["company"] == "<b>Acme</b> & Sons"
    assert result.values["need"] == "=cmd|' /C calc'!A0"


def test_ten_thousand_characters_are_too_long_with_a_short_message():
    for column in ("first_name", "email", "phone", "captured_at", "need", "postal_code"):
        result = check_row(make_row(**{column: "x" * 10_000}), ctx())

        assert codes(result) == [(column, "too_long")]
        assert len(result.rejections[0].message) < 120


def test_long_values_are_cut_short_in_messages():
    result = check_row(make_row(email="x" * 500 + "@mailinator.com"), ctx())

    assert codes(result) == [("email", "invalid_email")]
    assert len(result.rejections[0].message) < 300
    assert "..." in result.rejections[0].message


@pytest.mark.parametrize("value", ["Acme\x00Corp", "Acme \ud800"])
def test_values_postgresql_cannot_store_are_rejected(value):
    result = check_row(make_row(company=value, notes=value), ctx())

    assert codes(result) == [("notes", "invalid_value"), ("company", "invalid_value")]


@pytest.mark.parametrize(
    "value",
    [
        "\u202eevil",
        "'; DROP TABLE leads; --",
        "../../etc/passwd",
        "\x1b[31mred",
        "🙂🙂🙂",
        "\ud800",
        " \t\n ",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59Z",
        "0001-01-01",
    ],
)
def test_hostile_strings_in_every_column_never_raise(value):
    for column in LEAD_COLUMNS:
        result = check_row(make_row(**{column: value}), ctx())

        assert isinstance(result, CheckedRow)
        assert all(rejection.field != "row" for rejection in result.rejections)
