"""Request plumbing that keeps bad input a 4xx before any code sees it, for API and pages alike.

- ``<int:...>`` in any route matches only ids a database integer column can hold (a larger one is
  a 404, never an ``OverflowError`` or a PostgreSQL range error).
- A JSON body nested deeper than :data:`MAX_JSON_DEPTH` is ``400 malformed_json`` before anything
  parses it: the scan that decides is not recursive, so nothing can run out of stack.
- Text holding NUL or a lone UTF-16 surrogate is ``422`` naming the field, in JSON bodies and in
  form fields and file names: PostgreSQL text cannot hold NUL, and a lone surrogate cannot be
  encoded as UTF-8 at all.
"""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate

from flask import Flask, Request
from flask import json as flask_json
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from app.errors import Invalid, MalformedJson

# The largest value of a PostgreSQL INTEGER, the type of every id column.
MAX_DB_ID = 2**31 - 1
# Leadex's bodies are a few levels deep (a batch: object, list of leads, lead); this leaves room.
MAX_JSON_DEPTH = 64
BAD_TEXT_MESSAGE = "Text may not contain NUL characters or unpaired UTF-16 surrogates."

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
# What in a raw JSON text can become bad text: an escaped NUL or surrogate, or a raw one.
_BAD_TEXT_RAW = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})|[\x00\ud800-\udfff]")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


class DbIdConverter(IntegerConverter):
    """``<int:...>`` bounded to a database id: a larger number is a 404.

    The bound is checked after routing (:func:`_ids_in_range`), not here: werkzeug compares the
    method before it converts, so a failed conversion on a path that other methods also serve
    would answer 405 instead. ``max`` is what the OpenAPI document shows as ``maximum``.
    """

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_DB_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        # int() of thousands of digits is refused by Python (and slow); such an id is just big.
        if len(value.lstrip("0")) > len(str(self.max)):
            return self.max + 1
        return int(value)


def _ids_in_range(endpoint, values) -> None:
    """A url_value_preprocessor: an id past what a database column holds is a 404."""
    for value in (values or {}).values():
        if type(value) is int and value > MAX_DB_ID:
            raise NotFound()


def json_depth_exceeds(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects deeper than ``limit``.

    Strings are skipped, brackets counted; no recursion, and only C-speed passes over the text.
    Text that is not JSON at all may answer either way: its parser then rejects it.
    """
    if isinstance(raw, bytes):
        if raw.count(b"[") + raw.count(b"{") <= limit:
            return False
        try:
            text = raw.decode(json.detect_encoding(raw), "surrogatepass")
        except (UnicodeDecodeError, LookupError):
            return False
    else:
        if raw.count("[") + raw.count("{") <= limit:
            return False
        text = raw
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    steps = array("b", brackets.translate(_BRACKET_STEPS))
    return max(accumulate(steps), default=0) > limit


def has_bad_text(text: str) -> bool:
    """Whether ``text`` holds NUL or a lone surrogate."""
    return _BAD_TEXT.search(text) is not None


def bad_text_path(value) -> tuple | None:
    """The path (keys and indexes) of the first string in ``value`` holding NUL or a lone
    surrogate, ``()`` for ``value`` itself, or None when all text is fine. Not recursive."""
    stack = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _BAD_TEXT.search(item):
                return path
        elif isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and _BAD_TEXT.search(key):
                    return (*path, key)
                stack.append(((*path, key), inner))
        elif isinstance(item, list | tuple):
            stack.extend(((*path, i), inner) for i, inner in enumerate(item))
    return None


def bad_text_error(path: tuple) -> Invalid:
    """A 422 naming the field, nested like marshmallow's field errors."""
    details: dict | list = [BAD_TEXT_MESSAGE]
    for part in reversed(path or ("_schema",)):
        details = {str(part): details}
    return Invalid("Some fields are not valid.", code="validation_error", details=details)


def loads(data, *, parse=flask_json.loads, **kwargs):
    """``json.loads`` for request bodies: too deep is 400 ``malformed_json``, bad text 422."""
    if json_depth_exceeds(data):
        raise MalformedJson(
            f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.",
            details={"max_depth": MAX_JSON_DEPTH},
        )
    try:
        value = parse(data, **kwargs)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise MalformedJson() from None
    text = data if isinstance(data, str) else bytes(data)
    if isinstance(text, bytes):
        # json.loads decoded it just so; escapes and raw characters alike show in the text.
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    if _BAD_TEXT_RAW.search(text):
        path = bad_text_path(value)
        if path is not None:
            raise bad_text_error(path)
    return value


class _CheckedJson:
    """What :class:`LeadexRequest` parses JSON with: the app's provider, behind :func:`loads`."""

    def __init__(self, provider):
        self.provider = provider

    def loads(self, data, **kwargs):
        return loads(data, parse=self.provider.loads, **kwargs)

    def dumps(self, obj, **kwargs):
        return self.provider.dumps(obj, **kwargs)


class LeadexRequest(Request):
    """Flask's request with the body checks above (JSON by ``get_json``, forms when read)."""

    # Flask sets ``request.json_module = app.json`` per request; ``get_json`` then calls its
    # ``loads``. Only the request body goes through the checks, not the session cookie.
    @property
    def json_module(self):
        return _CheckedJson(self.__dict__.get("_leadex_json_provider", flask_json))

    @json_module.setter
    def json_module(self, provider) -> None:
        self.__dict__["_leadex_json_provider"] = provider

    def on_json_loading_failed(self, e):
        if e is None:  # not a JSON content type: Flask's 415
            return super().on_json_loading_failed(e)
        raise MalformedJson() from e

    def _load_form_data(self) -> None:
        super()._load_form_data()
        # Raised once: the parsed form stays cached, so an error page may still read it.
        for key, values in self.form.lists():
            if any(isinstance(v, str) and _BAD_TEXT.search(v) for v in (key, *values)):
                raise bad_text_error((key,))
        for key, upload in self.files.items(multi=True):
            if any(isinstance(v, str) and _BAD_TEXT.search(v) for v in (key, upload.filename)):
                raise bad_text_error((key,))


def init_app(app: Flask) -> None:
    """Install the bounded ``int`` converter and the checking request class; call before any
    route is registered."""
    app.url_map.converters["int"] = DbIdConverter
    app.url_value_preprocessor(_ids_in_range)
    app.request_class = LeadexRequest
