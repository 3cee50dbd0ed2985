"""List pages issue a fixed number of SQL statements, however much data there is."""

import pytest

from tests.factories import make_period, make_term, make_user


def add_people_and_terms(count: int) -> None:
    for number in range(count):
        make_user("student", status="active" if number % 2 else "applicant")
        make_user("advisor")
        make_period(make_term())


@pytest.mark.parametrize(
    "path", ["/", "/members/", "/admin/accounts", "/terms/", "/admin/invitations"]
)
def test_staff_pages_cost_the_same_with_more_data(ctx, login, count_queries, path):
    client = login(make_user("staff", is_admin=True))
    add_people_and_terms(2)
    few = count_queries(client, path)
    add_people_and_terms(15)
    assert count_queries(client, path) == few


def test_student_home_costs_the_same_with_more_data(ctx, login, count_queries):
    client = login(make_user("student"))
    add_people_and_terms(2)
    few = count_queries(client, "/")
    add_people_and_terms(15)
    assert count_queries(client, "/") == few
