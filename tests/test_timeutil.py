"""Times are stored in UTC and shown in the program's time zone, across DST changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.timeutil import format_datetime
from tests.factories import make_user

NEW_YORK = ZoneInfo("America/New_York")


def test_aware_datetimes_round_trip_as_utc(ctx):
    user = make_user("student")
    signed_in = datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK)
    user.last_sign_in_at = signed_in
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(select(User.last_sign_in_at).where(User.id == user.id))
    assert stored == signed_in
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(ctx):
    user = make_user("student")
    user.last_sign_in_at = datetime(2026, 11, 1, 12, 0)
    with pytest.raises(Exception, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


def test_seven_pm_stays_seven_pm_across_the_dst_change(app):
    before = datetime(2026, 10, 27, 23, 0, tzinfo=UTC)  # 7 pm EDT
    after = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # 7 pm EST
    with app.app_context():
        assert format_datetime(before) == "Tue 27 Oct 2026, 7:00 PM EDT"
        assert format_datetime(after) == "Mon 2 Nov 2026, 7:00 PM EST"


def test_program_zone_is_configurable(app):
    app.config["CRP_TIMEZONE"] = "America/Los_Angeles"
    with app.app_context():
        assert format_datetime(datetime(2026, 7, 1, 2, 0, tzinfo=UTC)) == (
            "Tue 30 Jun 2026, 7:00 PM PDT"
        )
