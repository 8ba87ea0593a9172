"""Row checks for uploaded leads: validate and normalise one row per leads.md, never raising."""

import ipaddress
import json
import logging
import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import phonenumbers
from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from email_validator import EmailNotValidError, validate_email

from verification.rules.columns import (
    HEADER_JUNK,
    INTEREST_SIGNALS,
    LEAD_COLUMNS,
    LEAD_TYPES,
    PRIORITIES,
    TIMELINES,
    canonical_header,
)
from verification.rules.postal import is_valid_postal_code, normalize_postal_code, postal_prefix

try:
    from phonenumbers.phonenumberutil import _number_type_helper
except ImportError:  # a phonenumbers release without it: number_type alone still gives the answer
    _number_type_helper = None

logger = logging.getLogger(__name__)

# phonenumbers recompiles its metadata patterns through re's 512-entry cache, which thrashes once
# a batch spans many regions; keeping them compiled makes parsing about 15% faster.
phonenumbers.enable_pattern_cache()

ROLE_LOCAL_PARTS: frozenset[str] = frozenset(
    {
        "abuse", "accounts", "admin", "administrator", "billing", "careers", "contact",
        "customerservice", "do-not-reply", "donotreply", "enquiries", "enquiry", "feedback",
        "finance", "ftp", "hello", "help", "helpdesk", "hostmaster", "hr", "info", "inquiries",
        "inquiry", "jobs", "mail", "marketing", "media", "news", "noc", "no-reply", "noreply",
        "office", "orders", "postmaster", "press", "privacy", "reception", "root", "sales",
        "security", "service", "support", "team", "usenet", "uucp", "webmaster", "www",
    }
)  # fmt: skip

MAX_VALUE_LENGTH = 1000
MAX_NAME_LENGTH = 100
MAX_BUDGET_CENTS = 2**63 - 1  # a BIGINT column
CLOCK_SKEW = timedelta(minutes=5)
CONSENT_GRACE = timedelta(days=1)

# Codes ISO 3166-1 assigns that phonenumbers has no numbering plan for; with its regions (which
# also include XK, AC and TA, in common use though not ISO-assigned) they are all valid countries.
_COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS) | {"AQ", "BV", "GS", "HM", "PN", "TF", "UM"}

_COLUMN_SET = frozenset(LEAD_COLUMNS)
_LEAD_TYPE_BY_KEY = {lead_type.lower(): lead_type for lead_type in LEAD_TYPES}
_TIMELINE_BY_KEY = {timeline.replace("_", ""): timeline for timeline in TIMELINES}
_TIMELINE_JUNK = str.maketrans("", "", " _\t")
_TIMELINE_SIGN_SPACES = re.compile(r"\s*([-+])\s*")
_PRIORITY_SET = frozenset(PRIORITIES)
_SIGNAL_SET = frozenset(INTEREST_SIGNALS)
_FREE_TEXT_COLUMNS = (
    "company",
    "job_title",
    "region",
    "city",
    "address",
    "decision_makers",
    "need",
    "challenge",
    "goals",
    "plans",
)
# Dotted-quad IPv4 as ipaddress prints it (no leading zeros), the usual case, checked without
# building an address object.
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_YES_NO = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False}
_YES_NO |= {"false": False, "0": False}

_PHONE_TYPE_NAMES = {
    getattr(phonenumbers.PhoneNumberType, name): name.lower()
    for name in dir(phonenumbers.PhoneNumberType)
    if name.isupper()
}
# Separators phonenumbers ignores anyway; dropping them first halves the characters its
# per-character digit normalisation walks over (same results on every region's example numbers).
_PLAIN_PHONE = re.compile(r"\+?[0-9 ().\-]+")
_PHONE_SEPARATORS = str.maketrans("", "", " ().-")
_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
        "has no valid country calling code (start it with + or give a valid country)"
    ),
    phonenumbers.NumberParseException.NOT_A_NUMBER: "is not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "is too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "is too short",
    phonenumbers.NumberParseException.TOO_LONG: "is too long",
}

# email_validator's own unquoted ASCII local-part grammar: for such a local part its normalised
# form is the input, so only the domain needs the (slow, cached) validation.
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
_ASCII_LOCAL_PART = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*")
# email_validator lower-cases these RFC 2142 mailbox names, so they take the full path.
_CASE_INSENSITIVE_MAILBOXES = frozenset(
    {"info", "marketing", "sales", "support", "abuse", "noc", "security", "postmaster"}
    | {"hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp"}
)
_EMAIL_MAX_LENGTH = 254

# Name placeholders, compared on the letters of the name only, so "Test 123" and "N.A." match.
_PLACEHOLDER_WORDS = frozenset(
    {
        "abc", "anonymous", "asdf", "azerty", "blah", "customer", "dummy", "example",
        "fake", "firstname", "fname", "lastname", "lname", "name", "noname", "none", "null",
        "nobody", "qwerty", "qwertz", "qazwsx", "surname", "test", "testing", "testtest",
        "undefined", "unknown", "user", "xx", "xxx", "yourname",
    }
)  # fmt: skip
# "n/a" spelled with punctuation; bare "Na" is a real Korean surname and Chinese given name.
_PLACEHOLDER_LITERALS = frozenset({"n/a", "n.a.", "n.a", "n\\a", "#n/a", "-", "--", "."})
# Keyboard rows and the alphabet: runs of four or more along them are typed, not names.
_TYPED_RUNS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")
# Shorter runs only where they are not names: "yui" (Japanese) and "tre" are real given names.
_KEYBOARD_TRIGRAMS = frozenset(
    {"qwe", "wer", "ert", "asd", "sdf", "dfg", "fgh", "ghj", "hjk", "jkl", "zxc", "xcv", "cvb"}
    | {"vbn", "bnm", "ewq", "dsa", "lkj", "mnb", "abc"}
)
# A spreadsheet or HTML payload is never a name; formulas start with these characters.
_NAME_BAD_START = ("=", "+", "-", "@")
_NAME_BAD_CHARS = re.compile(r"[<>{}\[\]|\\^~`$%*;=]")

_URL = re.compile(r"https?://[^\s/?#]+\S*", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{7,127}")


@dataclass(frozen=True, slots=True)
class Rejection:
    field: str
    code: str
    message: str
    details: dict | None = None


@dataclass(slots=True)
class CheckContext:
    now: datetime
    max_age_days: int = 90
    required_extra: tuple[str, ...] = ()
    suppressed_emails: Container[str] = frozenset()
    suppressed_phones: Container[str] = frozenset()
    deliverability: Callable[[str], bool] | None = None
    line_type_lookup: Callable[[str], str | None] | None = None


@dataclass(slots=True)
class CheckedRow:
    values: dict
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejections


class _Invalid:
    """Marks a field that already has its rejection, so later rules for it are skipped."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<invalid>"


_INVALID = _Invalid()

_EMPTY_VALUES: dict = dict.fromkeys(LEAD_COLUMNS) | {
    "email_domain": None,
    "email_status": None,
    "phone_type": None,
    "phone_confirmed_mobile": False,
    "postal_prefix": None,
}


def check_row(raw: dict[str, str | None], ctx: CheckContext) -> CheckedRow:
    """Validate and normalise one uploaded row; every failing field gets one Rejection."""
    values = _EMPTY_VALUES.copy()
    values["interest_signals"] = []
    values["extra"] = {}
    rejections: list[Rejection] = []
    try:
        _check(raw, ctx, values, rejections)
    except Exception:
        # A rule bug must cost one row, not the whole batch; the log carries the traceback.
        logger.exception("check_row failed on a row")
        rejections.append(Rejection("row", "invalid_value", "row could not be checked"))
    return CheckedRow(values, rejections)


def _check(raw: object, ctx: CheckContext, values: dict, rejections: list[Rejection]) -> None:
    if not isinstance(raw, Mapping):
        kind = type(raw).__name__
        rejections.append(Rejection("row", "invalid_value", f"row must be an object, got {kind}"))
        return
    src = _with_canonical_keys(raw, values["extra"], rejections)
    reject = rejections.append

    for column in ("first_name", "last_name"):
        name = _text(column, src.get(column), rejections, MAX_NAME_LENGTH)
        if name is None:
            reject(Rejection(column, "required", f"{column} is required"))
        elif name is not _INVALID:
            problem = _name_problem(name)
            if problem is None:
                values[column] = name
            else:
                reject(Rejection(column, problem[0], f"{column} {_show(name)} {problem[1]}"))

    country = _text("country", src.get("country"), rejections)
    if country is None:
        reject(Rejection("country", "required", "country is required"))
    elif country is not _INVALID:
        code = country.upper()
        if code in _COUNTRIES:
            values["country"] = code
        else:
            hint = " (use GB for the United Kingdom)" if code == "UK" else ""
            message = f"country {_show(country)} is not an ISO 3166-1 alpha-2 code{hint}"
            reject(Rejection("country", "invalid_country", message))
    region = values["country"]

    email = _text("email", src.get("email"), rejections)
    phone = _text("phone", src.get("phone"), rejections)
    if email is None and phone is None:
        reject(Rejection("email", "required", "email or phone is required"))
    if email is not None and email is not _INVALID:
        _check_email(email, ctx, values, rejections)
    if phone is not None and phone is not _INVALID:
        _check_phone(phone, region, ctx, values, rejections)

    for column in _FREE_TEXT_COLUMNS:
        value = src.get(column)
        # CSV rows carry every header, so most optional cells arrive as "".
        if value is not None and value != "":
            values[column] = _optional_text(column, value, rejections)

    postal = _text("postal_code", src.get("postal_code"), rejections)
    if postal is not None and postal is not _INVALID:
        postal = normalize_postal_code(postal)
        values["postal_code"] = postal
        values["postal_prefix"] = postal_prefix(postal)
        if region is not None and is_valid_postal_code(region, postal) is False:
            message = f"postal_code {_show(postal)} is not a valid {region} postal code"
            reject(Rejection("postal_code", "invalid_postal_code", message, {"country": region}))

    now = ctx.now if ctx.now.tzinfo is not None else ctx.now.replace(tzinfo=UTC)
    captured = _when("captured_at", src.get("captured_at"), rejections)
    if captured is None:
        reject(Rejection("captured_at", "required", "captured_at is required"))
    elif captured is not _INVALID:
        values["captured_at"] = captured
        if captured - now > CLOCK_SKEW:
            message = _future_message("captured_at", captured)
            reject(Rejection("captured_at", "future_date", message))
        elif now - captured > timedelta(days=ctx.max_age_days):
            message = (
                f"captured_at {captured.isoformat()} is older than the maximum lead age "
                f"of {ctx.max_age_days} days"
            )
            details = {"max_age_days": ctx.max_age_days}
            reject(Rejection("captured_at", "too_old", message, details))

    _check_consent(src, captured, now, values, rejections)
    _check_qualification(src, values, rejections)

    for column in ctx.required_extra:
        if not _has_column_value(column, values):
            reject(Rejection(column, "required", f"{column} is required for this vertical"))


def _with_canonical_keys(raw: Mapping, extra: dict, rejections: list[Rejection]) -> Mapping:
    """Map loosely spelled canonical keys ("First Name") to their columns; others go to extra."""
    if _COLUMN_SET.issuperset(raw):
        return raw  # the usual case once intake has mapped the header, settled at C speed
    aliases: dict | None = None
    for key in raw:
        if key in _COLUMN_SET:
            continue
        name = key.strip() if isinstance(key, str) else str(key).strip()
        column = canonical_header(name)
        if (
            column in _COLUMN_SET
            and column not in raw
            and (aliases is None or column not in aliases)
        ):
            if aliases is None:
                aliases = {}
            aliases[column] = raw[key]
        else:
            # A second spelling of a column already given is kept, not dropped.
            value = _extra_value(name, raw[key], rejections)
            if value is not None:
                extra[name] = value
    if aliases is None:
        return raw
    return {**raw, **aliases}


def _extra_value(column: str, value: object, rejections: list[Rejection]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    else:
        # Nested JSON has no column to go to; keep its text rather than drop what the seller sent.
        text = _json_text(value)
    if not text:
        return None
    if len(text) > MAX_VALUE_LENGTH:
        rejections.append(_too_long(column, text, MAX_VALUE_LENGTH))
        return None
    if "\x00" in text or (not text.isascii() and not _encodable(text)):
        rejections.append(_unstorable(column))
        return None
    return text


def _json_text(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _has_column_value(column: str, values: dict) -> bool:
    if column in _COLUMN_SET:
        return values[column] not in (None, "", [])
    extra = values["extra"]
    if column in extra:
        return True
    # Vertical settings and seller headers may spell the column differently ("Loan Amount").
    key = column.lower().translate(HEADER_JUNK)
    return any(name.lower().translate(HEADER_JUNK) == key for name in extra)


# -- value helpers --------------------------------------------------------------------------


def _text(column: str, value: object, rejections: list[Rejection], limit: int = MAX_VALUE_LENGTH):
    """The trimmed string, None when empty or absent, _INVALID after recording a rejection."""
    if value.__class__ is str:
        value = value.strip()
        if len(value) <= limit and "\x00" not in value and (value.isascii() or _encodable(value)):
            return value or None
    elif value is None:
        return None
    elif not isinstance(value, str):
        rejections.append(_wrong_type(column, value, "text"))
        return _INVALID
    else:
        value = str(value).strip()  # a str subclass: store a plain str
        if not value:
            return None
    if len(value) > limit:
        rejections.append(_too_long(column, value, limit))
    elif "\x00" in value or not _encodable(value):
        rejections.append(_unstorable(column))
    else:
        return value or None
    return _INVALID


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False  # a lone surrogate, from a JSON "\ud800" escape
    return True


def _optional_text(column: str, value: object, rejections: list[Rejection]) -> str | None:
    text = _text(column, value, rejections)
    return None if text is _INVALID else text


def _show(value: str, limit: int = 60) -> str:
    """The value quoted for a message, cut short so a 10,000-character value stays readable."""
    if len(value) > limit:
        value = value[:limit] + "..."
    return repr(value)


def _wrong_type(column: str, value: object, expected: str) -> Rejection:
    kind = "null" if value is None else type(value).__name__
    return Rejection(
        column, "invalid_value", f"{column} must be {expected}, got {kind}", {"type": kind}
    )


def _too_long(column: str, value: str, limit: int) -> Rejection:
    message = f"{column} is {len(value)} characters long, more than the {limit} allowed"
    return Rejection(column, "too_long", message, {"length": len(value), "max": limit})


def _unstorable(column: str) -> Rejection:
    # PostgreSQL text holds neither NUL nor unpaired surrogates, so the value could not be stored.
    message = f"{column} contains a NUL character or invalid Unicode"
    return Rejection(column, "invalid_value", message)


def _not_allowed(column: str, value: str, allowed: tuple[str, ...]) -> Rejection:
    message = f"{column} {_show(value)} is not one of: {', '.join(allowed)}"
    return Rejection(column, "invalid_value", message, {"allowed": list(allowed)})


def _future_message(column: str, when: datetime) -> str:
    return f"{column} {when.isoformat()} is in the future"


# -- names ----------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _name_problem(name: str) -> tuple[str, str] | None:
    """(code, reason) when the name cannot be a person's name; cached as first names repeat."""
    if name.startswith(_NAME_BAD_START) or _NAME_BAD_CHARS.search(name):
        return ("invalid_value", "contains characters that do not belong in a name")
    folded = name.casefold()
    if folded.replace(" ", "") in _PLACEHOLDER_LITERALS or name == "NaN":
        return ("placeholder_name", "is a placeholder, not a name")
    letters = "".join(char for char in folded if char.isalpha())
    if not letters:
        return ("placeholder_name", "has no letters")
    if _is_placeholder_letters(letters):
        return ("placeholder_name", "is a placeholder, not a name")
    return None


def _is_placeholder_letters(letters: str) -> bool:
    if _is_placeholder_unit(letters):
        return True
    # A word or keyboard run typed again ("testtest", "asdasd") or one letter held ("aaaa"); two
    # letters repeated are real names ("Lulu", "Mimi", Chinese "Lili").
    size = len(letters)
    for unit_size in range(1, size // 2 + 1):
        if size % unit_size == 0 and letters[:unit_size] * (size // unit_size) == letters:
            return (unit_size == 1 and size >= 3) or _is_placeholder_unit(letters[:unit_size])
    return False


def _is_placeholder_unit(unit: str) -> bool:
    if unit in _PLACEHOLDER_WORDS or unit in _KEYBOARD_TRIGRAMS:
        return True
    if len(unit) < 4 or not unit.isascii():
        return False
    return any(unit in row or unit in row[::-1] for row in _TYPED_RUNS)


# -- email ----------------------------------------------------------------------------------


def _check_email(email: str, ctx: CheckContext, values: dict, rejections: list) -> None:
    result = _validate_email(email)
    if isinstance(result, str):
        message = f"email {_show(email)} is not a valid address: {result}"
        rejections.append(Rejection("email", "invalid_email", message, {"reason": result}))
        return
    normalized, local_part, domain, disposable = result
    values["email"] = normalized
    values["email_domain"] = domain
    if disposable:
        message = f"email {_show(normalized)} uses a disposable domain"
        rejections.append(Rejection("email", "disposable_email", message, {"domain": domain}))
        return
    if ctx.deliverability is not None and not _deliverable(ctx.deliverability, normalized):
        message = f"email {_show(normalized)} is undeliverable: its domain accepts no mail"
        rejections.append(
            Rejection("email", "invalid_email", message, {"reason": "undeliverable"})
        )
        return
    values["email_status"] = "role" if _is_role(local_part) else "valid"
    suppressed = ctx.suppressed_emails
    # Suppression lists are usually kept lower-case, while the normalised local part keeps case.
    if normalized in suppressed or normalized.lower() in suppressed:
        message = f"email {_show(normalized)} is on the suppression list"
        rejections.append(Rejection("email", "suppressed", message))


def _deliverable(check: Callable[[str], bool], email: str) -> bool:
    try:
        return bool(check(email))
    except Exception:
        # A lookup failure is no evidence against the address; keep the lead.
        logger.warning("deliverability check failed for a %s address", email.rpartition("@")[2])
        return True


def _is_role(local_part: str) -> bool:
    return local_part.lower().partition("+")[0] in ROLE_LOCAL_PARTS


def _validate_email(email: str) -> tuple[str, str, str, bool] | str:
    """(normalised address, local part, domain, disposable) or the reason it is invalid."""
    local_part, at, domain_part = email.partition("@")
    if (
        at
        and _ASCII_LOCAL_PART.fullmatch(local_part)
        and local_part.lower() not in _CASE_INSENSITIVE_MAILBOXES
    ):
        domain = _validate_domain(domain_part)
        if isinstance(domain, str):
            return domain
        unicode_domain, longest_domain, disposable = domain
        if len(local_part) + 1 + longest_domain <= _EMAIL_MAX_LENGTH:
            return (f"{local_part}@{unicode_domain}", local_part, unicode_domain, disposable)
    try:
        validated = validate_email(email, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        return str(exc)
    ascii_domain = validated.ascii_domain or validated.domain
    return (
        validated.normalized,
        validated.local_part,
        validated.domain,
        _is_disposable(ascii_domain.lower()),
    )


@lru_cache(maxsize=16384)
def _validate_domain(domain_part: str) -> tuple[str, int, bool] | str:
    """(normalised domain, its longest byte length in any form, disposable) or the reason."""
    try:
        validated = validate_email("x@" + domain_part, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    ascii_domain = validated.ascii_domain
    longest = max(
        len(domain_part.encode()), len(validated.domain.encode()), len(ascii_domain.encode())
    )
    return (validated.domain, longest, _is_disposable(ascii_domain))


@lru_cache(maxsize=16384)
def _is_disposable(ascii_domain: str) -> bool:
    """The domain or any parent domain is on the disposable list (a.b.mailinator.com too)."""
    labels = ascii_domain.split(".")
    return any(".".join(labels[i:]) in _DISPOSABLE_DOMAINS for i in range(len(labels) - 1))


# -- phone ----------------------------------------------------------------------------------


def _check_phone(
    phone: str, region: str | None, ctx: CheckContext, values: dict, rejections: list
) -> None:
    number = phone.translate(_PHONE_SEPARATORS) if _PLAIN_PHONE.fullmatch(phone) else phone
    if number.startswith("00"):
        # The common international prefix; phonenumbers only knows it for regions that use it.
        number = "+" + number[2:]
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        reason = _PARSE_ERRORS.get(exc.error_type, "is not a phone number")
        rejections.append(Rejection("phone", "invalid_phone", f"phone {_show(phone)} {reason}"))
        return
    number_type = _number_type(parsed, region)
    if number_type == phonenumbers.PhoneNumberType.UNKNOWN:
        where = f" for {region}" if region else ""
        message = f"phone {_show(phone)} is not a valid number{where}"
        rejections.append(Rejection("phone", "invalid_phone", message))
        return
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    phone_type = _PHONE_TYPE_NAMES.get(number_type, "unknown")
    values["phone"] = e164
    values["phone_type"] = phone_type
    if phone_type == "mobile":
        values["phone_confirmed_mobile"] = True
    elif ctx.line_type_lookup is not None:
        values["phone_confirmed_mobile"] = _looked_up_type(ctx.line_type_lookup, e164) == "mobile"
    if e164 in ctx.suppressed_phones:
        message = f"phone {_show(e164)} is on the suppression list"
        rejections.append(Rejection("phone", "suppressed", message))


def _number_type(parsed: phonenumbers.PhoneNumber, region: str | None) -> int:
    """phonenumbers.number_type, which is UNKNOWN exactly when is_valid_number is False.

    For a calling code shared by several regions (+1, +44, +7...) number_type first finds the
    region by classifying the number against each region in turn, then classifies it again.
    When the lead's country is the code's main region, the first classification is the answer.
    """
    metadata = _main_region_metadata(region)
    if metadata is not None and parsed.country_code == metadata.country_code:
        nsn = phonenumbers.national_significant_number(parsed)
        number_type = _number_type_helper(nsn, metadata)
        if number_type != phonenumbers.PhoneNumberType.UNKNOWN:
            return number_type
    return phonenumbers.number_type(parsed)


@lru_cache(maxsize=512)
def _main_region_metadata(region: str | None) -> phonenumbers.PhoneMetadata | None:
    """The region's metadata when region_code_for_number would classify against it first."""
    if region is None or _number_type_helper is None:
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.leading_digits is not None:
        return None
    if phonenumbers.region_code_for_country_code(metadata.country_code) != region:
        return None
    shared = len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ())) > 1
    return metadata if shared else None


def _looked_up_type(lookup: Callable[[str], str | None], e164: str) -> str | None:
    try:
        line_type = lookup(e164)
    except Exception:
        # Unconfirmed is the default state; a failed lookup just leaves it so.
        logger.warning("line type lookup failed", exc_info=True)
        return None
    return line_type.strip().lower() if isinstance(line_type, str) else None


# -- dates and consent ----------------------------------------------------------------------


def _when(column: str, value: object, rejections: list[Rejection]):
    """An aware UTC datetime, None when absent, _INVALID after recording a rejection."""
    if isinstance(value, datetime):
        return _as_utc(value)
    text = _text(column, value, rejections)
    if text is None or text is _INVALID:
        return text
    parsed = _parse_datetime(text)
    if parsed is None:
        message = f"{column} {_show(text)} is not an ISO 8601 date and time"
        rejections.append(Rejection(column, "invalid_value", message))
        return _INVALID
    return parsed


def _parse_datetime(text: str) -> datetime | None:
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        return _as_utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None


def _as_utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _check_consent(
    src: Mapping, captured, now: datetime, values: dict, rejections: list[Rejection]
) -> None:
    reject = rejections.append
    text = _text("consent_text", src.get("consent_text"), rejections)
    if text is None:
        reject(Rejection("consent_text", "consent_missing", "consent_text is missing"))
    elif text is not _INVALID:
        values["consent_text"] = text

    consented = _when("consented_at", src.get("consented_at"), rejections)
    if consented is None:
        reject(Rejection("consented_at", "consent_missing", "consented_at is missing"))
    elif consented is not _INVALID:
        values["consented_at"] = consented
        if consented - now > CLOCK_SKEW:
            message = _future_message("consented_at", consented)
            reject(Rejection("consented_at", "future_date", message))
        # A difference, not captured + 1 day, which overflows for a capture in year 9999.
        elif isinstance(captured, datetime) and consented - captured > CONSENT_GRACE:
            message = (
                f"consented_at {consented.isoformat()} is more than a day after "
                f"captured_at {captured.isoformat()}"
            )
            reject(Rejection("consented_at", "consent_inconsistent", message))

    ip = _text("consent_ip", src.get("consent_ip"), rejections)
    if ip is not None and ip is not _INVALID:
        try:
            values["consent_ip"] = (
                ip if _CANONICAL_IPV4.fullmatch(ip) else ipaddress.ip_address(ip).compressed
            )
        except ValueError:
            message = f"consent_ip {_show(ip)} is not an IP address"
            reject(Rejection("consent_ip", "invalid_value", message))

    # Buyers open these as links: only web addresses, never javascript: or data: URLs.
    url = _text("consent_url", src.get("consent_url"), rejections)
    if url is not None and url is not _INVALID:
        if _URL.fullmatch(url):
            values["consent_url"] = url
        else:
            message = f"consent_url {_show(url)} is not an http(s) URL"
            reject(Rejection("consent_url", "invalid_value", message))

    certificate = _text("consent_certificate", src.get("consent_certificate"), rejections)
    if certificate is not None and certificate is not _INVALID:
        if _URL.fullmatch(certificate) or _TOKEN.fullmatch(certificate):
            values["consent_certificate"] = certificate
        else:
            message = (
                f"consent_certificate {_show(certificate)} is neither a certificate URL "
                "nor a LeadiD token"
            )
            reject(Rejection("consent_certificate", "invalid_value", message))


# -- qualification answers ------------------------------------------------------------------


def _check_qualification(src: Mapping, values: dict, rejections: list[Rejection]) -> None:
    reject = rejections.append

    lead_type = _text("lead_type", src.get("lead_type"), rejections)
    if lead_type is not None and lead_type is not _INVALID:
        canonical = _LEAD_TYPE_BY_KEY.get(lead_type.lower())
        if canonical is None:
            reject(_not_allowed("lead_type", lead_type, LEAD_TYPES))
        values["lead_type"] = canonical

    timeline = _text("timeline", src.get("timeline"), rejections)
    if timeline is not None and timeline is not _INVALID:
        canonical = _canonical_timeline(timeline)
        if canonical is None:
            reject(_not_allowed("timeline", timeline, TIMELINES))
        values["timeline"] = canonical

    priority = _text("priority", src.get("priority"), rejections)
    if priority is not None and priority is not _INVALID:
        if priority.lower() in _PRIORITY_SET:
            values["priority"] = priority.lower()
        else:
            reject(_not_allowed("priority", priority, PRIORITIES))

    for column in ("has_budget", "is_decision_maker"):
        values[column] = _yes_no(column, src.get(column), rejections)
    values["budget_cents"] = _budget(src.get("budget_cents"), rejections)

    values["interest_signals"] = _signals(src.get("interest_signals"), rejections)


@lru_cache(maxsize=256)
def _canonical_timeline(timeline: str) -> str | None:
    # "1-3 months", "1 - 3 Months" and "12+ months" are the same answers as the listed forms.
    key = _TIMELINE_SIGN_SPACES.sub(r"\1", timeline.lower()).translate(_TIMELINE_JUNK)
    return _TIMELINE_BY_KEY.get(key)


def _yes_no(column: str, value: object, rejections: list[Rejection]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    answer = _YES_NO.get(value) if isinstance(value, str) else None
    if answer is not None:
        return answer
    if type(value) is int and value in (0, 1):
        return bool(value)
    if not isinstance(value, str):
        rejections.append(_wrong_type(column, value, "yes or no"))
        return None
    text = _text(column, value, rejections)
    if text is None or text is _INVALID:
        return None
    answer = _YES_NO.get(text.lower())
    if answer is None:
        message = f"{column} {_show(text)} is not yes/no (yes, no, true, false, y, n, 1, 0)"
        rejections.append(Rejection(column, "invalid_value", message))
    return answer


def _budget(value: object, rejections: list[Rejection]) -> int | None:
    if value is None:
        return None
    if type(value) is int:
        amount = value
    elif not isinstance(value, str):
        # Floats too: money is whole cents, and 12.5 cents is a unit mistake, not an amount.
        rejections.append(_wrong_type("budget_cents", value, "a whole number of cents"))
        return None
    else:
        text = _text("budget_cents", value, rejections)
        if text is None or text is _INVALID:
            return None
        # isdecimal, not isdigit: "²" is a digit int() refuses; Arabic-Indic digits are fine.
        if not (text.isdecimal() and len(text) <= 19):
            message = f"budget_cents {_show(text)} is not a whole number of cents"
            rejections.append(Rejection("budget_cents", "invalid_value", message))
            return None
        amount = int(text)
    if not 0 <= amount <= MAX_BUDGET_CENTS:
        message = f"budget_cents {amount} is not a non-negative amount of cents"
        rejections.append(Rejection("budget_cents", "invalid_value", message))
        return None
    return amount


def _signals(value: object, rejections: list[Rejection]) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        # A JSON array is the natural spelling of a list in a JSON upload.
        signals, unknown = _parse_signals(tuple(value))
    else:
        text = _text("interest_signals", value, rejections)
        if text is None or text is _INVALID:
            return []
        signals, unknown = _parse_signals(tuple(text.split(";")))
    if unknown:
        shown = ", ".join(_show(item, 30) for item in unknown[:5])
        message = f"interest_signals has unknown signals: {shown}"
        details = {"allowed": list(INTEREST_SIGNALS)}
        rejections.append(Rejection("interest_signals", "invalid_value", message, details))
        return []
    return list(signals)


@lru_cache(maxsize=4096)
def _parse_signals(items: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(known signals, each once, in order; unknown items); batches repeat combinations."""
    signals: list[str] = []
    unknown: list[str] = []
    for item in items:
        signal = item.strip().lower()
        if signal in _SIGNAL_SET:
            if signal not in signals:
                signals.append(signal)
        elif signal:
            unknown.append(item.strip())
    return tuple(signals), tuple(unknown)
