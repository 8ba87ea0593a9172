"""CSV cells: formulas defused, negative numbers kept as numbers (receipts.csv refunds)."""

from decimal import Decimal

import pytest

from app.csvutil import csv_response, safe_cell

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value, cell",
    [
        ("-4.00", "-4.00"),
        ("-4", "-4"),
        ("-1234567.89", "-1234567.89"),
        (-4, "-4"),
        (Decimal("-4.00"), "-4.00"),
        (-0.5, "-0.5"),
        ("4.00", "4.00"),
        (12, "12"),
        (None, ""),
    ],
)
def test_numbers_are_written_as_numbers(value, cell):
    assert safe_cell(value) == cell


@pytest.mark.parametrize(
    "text",
    [
        "=1+2",
        "+4.00",
        "-4.00+cmd|' /C calc'!A0",
        "-1+2",
        "-4.",
        "-.5",
        "-1e5",
        "-4.00\n",
        "-",
        "--4",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "-4,00",
        "-٤",
    ],
)
def test_text_that_starts_like_a_formula_is_defused(text):
    assert safe_cell(text) == "'" + text


def test_a_streamed_csv_keeps_a_refund_amount_numeric(app):
    with app.test_request_context():
        response = csv_response(
            ["kind", "amount"], [("refund", "-4.00"), ("note", "=HYPERLINK()")], "r.csv"
        )
        body = "".join(response.response)
    assert "refund,-4.00\r\n" in body
    assert "note,'=HYPERLINK()\r\n" in body
