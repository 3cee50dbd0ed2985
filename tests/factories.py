"""Arrange helpers: accounts and terms made through the services, committed."""

import itertools
from datetime import date

from crp_portal.auth.services import create_user
from crp_portal.extensions import db
from crp_portal.terms.services import add_period, create_term

PASSWORD = "a long test passphrase"
_numbers = itertools.count(1)


def make_user(
    role: str = "student",
    *,
    email: str | None = None,
    name: str | None = None,
    password: str | None = PASSWORD,
    is_admin: bool = False,
    active: bool = True,
    status: str = "active",
    student_id: str | None = None,
):
    number = next(_numbers)
    user = create_user(
        email or f"{role}{number}@example.edu",
        name or f"{role.title()} Person{number}",
        role,
        password=password,
        student_id=student_id,
        member_status=status,
    )
    user.is_admin = is_admin
    user.active = active
    db.session.commit()
    return user


def make_term(name: str | None = None, starts_on=date(2026, 8, 24), ends_on=date(2026, 12, 18)):
    term = create_term(name or f"Term {next(_numbers)}", starts_on, ends_on)
    db.session.commit()
    return term


def make_period(term, kind="finals", starts_on=date(2026, 12, 12), ends_on=date(2026, 12, 18)):
    period = add_period(term, kind, "", starts_on, ends_on)
    db.session.commit()
    return period
