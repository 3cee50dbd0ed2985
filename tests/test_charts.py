"""One chart module (crp_portal/charts.py, templates/_charts.html) draws the dashboard's
trends and a student's check-ins: each named, titled and described for a screen reader,
with the numbers in a table beside it."""

import html
import re

from crp_portal.charts import bar_chart, line_chart
from tests.factories import make_user
from tests.test_check_ins import make_check_in


def test_points_are_spaced_by_their_positions_so_a_missed_week_leaves_a_gap():
    chart = line_chart("Answers", ["a", "b", "c"], [("Mood", [1, 5, 3])], positions=[0, 2, 3])
    xs = [point.x for point in chart.series[0].points]
    assert abs((xs[1] - xs[0]) - 2 * (xs[2] - xs[1])) < 0.5  # coordinates keep one decimal


def test_a_fixed_scale_sets_the_axis_and_is_said_in_the_description():
    chart = line_chart(
        "Answers",
        ["3 Mar", "10 Mar"],
        [("Mood", [1, 5]), ("Stress", [2, 2]), ("Sleep", [5, 1])],
        scale=(1, 5),
        name_is_description=True,
    )
    assert [tick.value for tick in chart.ticks] == [1, 2, 3, 4, 5]
    assert chart.series[0].points[0].y == chart.baseline  # 1 sits on the axis
    assert (
        chart.label
        == chart.description
        == (
            "Line chart of mood, stress and sleep over 2 weeks, each from 1 to 5. "
            "The same numbers are in the table below."
        )
    )
    assert [s.marker for s in chart.series] == ["circle", "square", "triangle"]


def test_by_default_a_chart_is_named_by_its_title_and_description():
    chart = bar_chart("Members by touches", [("0 touches", 3), ("1 touches", 5)], " members")
    assert chart.label == (
        "Members by touches. Bar chart. 0 touches: 3 members, 1 touches: 5 members. "
        "The same numbers are in the table below."
    )


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", page, re.S)


def test_the_check_in_chart_and_the_dashboard_are_drawn_by_the_same_macros(ctx, login):
    student = make_user("student")
    make_check_in(student, weeks_ago=3, mood=2)
    make_check_in(student, weeks_ago=1, mood=4)
    page = html.unescape(login(student).get("/me/check-in").get_data(as_text=True))
    [svg] = svgs(page)
    assert 'aria-label="Line chart of mood, stress and sleep over 2 weeks, each from 1 to 5.' in svg
    assert "<title>Mood, stress and sleep by week, 1 to 5</title>" in svg
    assert "<desc>Line chart of mood, stress and sleep over 2 weeks" in svg
    assert svg.count("<polyline") == 3 and "<polygon" in svg  # sleep's triangles

    dashboard = html.unescape(login(make_user("staff")).get("/dashboard/").get_data(as_text=True))
    for chart in svgs(dashboard):
        assert 'role="img"' in chart and "<title>" in chart and "<desc>" in chart
    assert len(svgs(dashboard)) == 2
