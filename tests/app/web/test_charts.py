"""The geometry of server-drawn line charts (app/web/charts.py): pure, no app."""

import pytest

from app.web.charts import (
    RATE_SCALES,
    Box,
    Series,
    line_chart,
    nice_scale,
    percent_tick,
    rate_scale,
)

pytestmark = pytest.mark.unit

BOX = Box(width=200, height=120, left=20, right=10, top=10, bottom=10)  # plot 170 x 100


def chart(values, **kwargs):
    labels = [f"w{i}" for i in range(len(values))]
    return line_chart(labels, [Series("r", "Rate", values, css="series-a", **kwargs)], box=BOX)


def test_points_scale_to_the_box_first_label_left_last_right_zero_at_the_bottom():
    drawn = chart([0.0, 0.5, 1.0])
    assert (drawn["left"], drawn["right"], drawn["top"], drawn["bottom"]) == (20, 190, 10, 110)
    points = drawn["series"][0]["points"]
    assert [(p["x"], p["y"]) for p in points] == [(20, 110), (105, 60), (190, 10)]
    assert drawn["series"][0]["paths"] == ["20.0,110.0 105.0,60.0 190.0,10.0"]
    assert [label["x"] for label in drawn["labels"]] == [20, 105, 190]


def test_every_point_of_any_data_lies_inside_the_plot():
    values = [0.0, 0.013, 0.049, 0.26, 0.7, 1.0, None, 0.031]
    for end in range(1, len(values) + 1):
        drawn = chart(values[:end])
        for p in drawn["series"][0]["points"]:
            assert drawn["left"] <= p["x"] <= drawn["right"]
            assert drawn["top"] <= p["y"] <= drawn["bottom"]


def test_values_at_zero_and_one_sit_on_the_bottom_and_top_lines():
    drawn = chart([0.0, 1.0])
    ys = [p["y"] for p in drawn["series"][0]["points"]]
    assert ys == [drawn["bottom"], drawn["top"]]
    assert drawn["ticks"][0] == {"y": drawn["bottom"], "label": "0%"}
    assert drawn["ticks"][-1] == {"y": drawn["top"], "label": "100%"}


def test_all_zero_values_are_data_drawn_on_the_bottom_line_of_the_smallest_scale():
    drawn = chart([0.0, 0.0])
    assert drawn["has_data"]
    assert [t["label"] for t in drawn["ticks"]] == ["0%", "1%", "2%", "3%", "4%", "5%"]
    assert {p["y"] for p in drawn["series"][0]["points"]} == {drawn["bottom"]}


def test_an_empty_series_draws_axes_and_no_line():
    drawn = line_chart([], [Series("r", "Rate", [])], box=BOX)
    assert not drawn["has_data"]
    assert drawn["labels"] == [] and drawn["series"][0]["paths"] == []
    assert drawn["series"][0]["points"] == [] and len(drawn["ticks"]) == 6


def test_a_series_without_any_value_has_no_data():
    drawn = chart([None, None, None])
    assert not drawn["has_data"] and drawn["series"][0]["paths"] == []
    assert len(drawn["labels"]) == 3


def test_a_single_point_is_centred():
    drawn = chart([0.02])
    (point,) = drawn["series"][0]["points"]
    assert point["x"] == (drawn["left"] + drawn["right"]) / 2
    assert drawn["series"][0]["paths"] == [f"{point['x']},{point['y']}"]


def test_a_missing_value_breaks_the_line_instead_of_falling_to_zero():
    drawn = chart([0.1, 0.2, None, 0.1])
    series = drawn["series"][0]
    assert len(series["paths"]) == 2 and len(series["points"]) == 3
    assert series["paths"][1].count(",") == 1  # the lone point after the gap


def test_the_smallest_scale_that_holds_the_largest_value_is_used():
    assert rate_scale(0.0) == (0.05, 0.01)
    assert rate_scale(0.05) == (0.05, 0.01)
    assert rate_scale(0.051) == (0.1, 0.02)
    assert rate_scale(0.21) == (0.25, 0.05)
    assert rate_scale(1.0) == (1.0, 0.25)
    assert rate_scale(3.0) == RATE_SCALES[-1]
    assert [t["label"] for t in chart([0.3])["ticks"]] == ["0%", "10%", "20%", "30%", "40%", "50%"]


def test_point_titles_name_the_series_the_x_and_the_value():
    drawn = line_chart(
        ["03 Mar"],
        [Series("r", "Rows rejected", [0.125])],
        titles=["week of 03 Mar"],
    )
    assert drawn["series"][0]["points"][0]["title"] == "Rows rejected, week of 03 Mar: 12.5%"


def test_intervals_are_drawn_as_whiskers_and_as_bands_along_the_line():
    drawn = chart(
        [0.2, 0.4, None, 0.6],
        intervals=[(0.1, 0.3), (0.3, 0.5), None, (0.5, 1.0)],
    )
    series = drawn["series"][0]
    # The scale holds the highs too: 1.0 is the top line.
    assert drawn["ticks"][-1]["label"] == "100%"
    assert series["whiskers"] == [
        {"x": 20, "y_low": 100.0, "y_high": 80.0},
        {"x": 76.7, "y_low": 80.0, "y_high": 60.0},
        {"x": 190, "y_low": 60.0, "y_high": 10.0},
    ]
    # One band per stretch of the line: along the highs, then back along the lows.
    assert series["bands"] == [
        "20.0,80.0 76.7,60.0 76.7,80.0 20.0,100.0",
        "190.0,10.0 190.0,60.0",
    ]
    for whisker in series["whiskers"]:
        assert drawn["top"] <= whisker["y_high"] <= whisker["y_low"] <= drawn["bottom"]


def test_without_intervals_nothing_but_the_line_is_drawn():
    series = chart([0.1, 0.2])["series"][0]
    assert series["whiskers"] == [] and series["bands"] == []


def test_counts_and_money_get_a_nice_scale_of_their_own():
    assert nice_scale(0) == (1, 0.25)
    assert nice_scale(7) == (8, 2)
    assert nice_scale(10) == (10, 2.5)
    assert nice_scale(123) == (150, 50)
    assert nice_scale(499_900) == (600_000, 200_000)  # $4,999.00 in cents
    for top in (0.3, 1, 9, 11, 99, 101, 12_345, 10**9 + 1):
        ceiling, step = nice_scale(top)
        assert top <= ceiling <= 4 * step + 1e-9
    drawn = line_chart(
        ["a", "b"],
        [Series("n", "Leads sold", [3, 7])],
        scale=nice_scale,
        tick_label=lambda v: f"{v:g}",
        value_label=lambda v: f"{v:,.0f}",
    )
    assert [t["label"] for t in drawn["ticks"]] == ["0", "2", "4", "6", "8"]
    assert drawn["series"][0]["points"][1]["title"] == "Leads sold, b: 7"
    assert drawn["series"][0]["points"][1]["y"] > drawn["top"]  # 7 sits under the 8 line


def test_a_series_must_have_one_value_per_label():
    with pytest.raises(ValueError):
        line_chart(["a", "b"], [Series("r", "Rate", [0.1])])
    with pytest.raises(ValueError):
        line_chart(["a"], [Series("r", "Rate", [0.1], intervals=[])])


def test_percent_ticks_drop_needless_decimals():
    assert [percent_tick(v) for v in (0, 0.01, 0.025, 0.15000000000000002, 1)] == [
        "0%",
        "1%",
        "2.5%",
        "15%",
        "100%",
    ]
