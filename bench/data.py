"""Fast synthetic data for benchmarks: thousands of members with Core bulk inserts."""

from datetime import date, timedelta

from sqlalchemy import insert

from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile
from crp_portal.terms.models import CalendarPeriod, Term
from crp_portal.timeutil import utcnow

CHUNK = 5000


def add_members(count: int, today: date, start: int = 0) -> None:
    """`count` active student members, in chunks so memory stays flat."""
    now = utcnow()
    for first in range(start, start + count, CHUNK):
        numbers = range(first, min(first + CHUNK, start + count))
        db.session.execute(
            insert(User),
            [
                {
                    "id": 1000 + number,
                    "email": f"member{number:06d}@bench.example.edu",
                    "name": f"Member {number:06d}",
                    "role": "student",
                    "created_at": now,
                    "updated_at": now,
                }
                for number in numbers
            ],
        )
        db.session.execute(
            insert(MemberProfile),
            [
                {
                    "user_id": 1000 + number,
                    "status": "active",
                    "joined_on": today - timedelta(days=30 + number % 700),
                    "status_changed_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for number in numbers
            ],
        )
    db.session.commit()


def add_term_around(today: date) -> Term:
    """A term containing today, with finals starting in three days and a break that ended
    yesterday, so period campaigns are due today."""
    term = Term(
        name="Bench term", starts_on=today - timedelta(weeks=10), ends_on=today + timedelta(weeks=2)
    )
    db.session.add(term)
    for kind, name, starts, ends in [
        ("finals", "Finals", today + timedelta(days=3), today + timedelta(days=9)),
        (
            "midterms",
            "Midterms",
            today - timedelta(weeks=4),
            today - timedelta(weeks=4) + timedelta(days=4),
        ),
        ("break", "Fall break", today - timedelta(days=7), today - timedelta(days=1)),
        ("classes_start", "Classes start", term.starts_on, term.starts_on),
    ]:
        db.session.add(
            CalendarPeriod(term=term, kind=kind, name=name, starts_on=starts, ends_on=ends)
        )
    db.session.commit()
    return term
