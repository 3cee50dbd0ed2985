"""Every calendar file the portal writes puts each entry at the same moment in every reader.

Python's `icalendar` places an entry by the zone data it knows; Mozilla's ical.js (the
parser inside Thunderbird) and dateutil's VTIMEZONE reader only by the VTIMEZONE in the
file, as a calendar app without that zone must. Thunderbird once put every event from
March to November of the following year an hour late. Here a student is going to an
event in every month of the next two years and to one across each change of the clocks,
has appointments at the same times, and every file (each event's and appointment's
download, both private feeds, every emailed attachment) is read by all three, in the
program's zone and in two southern-hemisphere zones (one with a rule RRULE can say, one
without).
"""

import json
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Timezone
from icalendar.prop import vDuration
from sqlalchemy import select

from crp_portal.advising.models import Appointment
from crp_portal.advising.notify import notify
from crp_portal.events.calendars import feed_for, feed_url
from crp_portal.events.models import Event
from crp_portal.events.rsvp import rsvp
from crp_portal.extensions import db
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_appointment, make_event, make_user
from tests.readers import JS_DIR, node

ICAL_INSTANTS = JS_DIR / "ical_instants.mjs"
ZONES = ["America/New_York", "Australia/Sydney", "America/Santiago"]
MONTHS_AHEAD = 24
AN_HOUR_BEFORE = "-PT1H"


@pytest.fixture(params=ZONES)
def app_config(request):
    return {"CRP_TIMEZONE": request.param}


def months_ahead(today: date) -> list[date]:
    """The 15th of each of the next 24 months."""
    return [
        date(today.year + (today.month - 1 + n) // 12, (today.month - 1 + n) % 12 + 1, 15)
        for n in range(1, MONTHS_AHEAD + 1)
    ]


def clock_changes(zone: ZoneInfo, start: datetime, days: int) -> list[datetime]:
    """Each moment the zone's clocks change, from the zone data (they change on the hour
    in UTC in these zones)."""
    moments = [
        start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=h)
        for h in range(days * 24)
    ]
    return [
        later
        for earlier, later in zip(moments, moments[1:], strict=False)
        if earlier.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset()
    ]


def across(moment: datetime, before: timedelta, after: timedelta) -> dict:
    return {"starts_at": moment - before, "ends_at": moment + after}


def plan_the_next_two_years(zone: ZoneInfo):
    """Events and appointments at 10:00 local mid-month, and across each clock change;
    the student is going to every event. Returns the student, the advisor and the UIDs
    of the entries across a change."""
    student = make_user("student", email="kai@example.edu", name="Kai Nguyen")
    advisor = make_user("advisor", email="lucia@example.edu", name="Lucía García")
    staff = make_user("staff")
    today = local_today()
    changes = clock_changes(zone, utcnow(), days=MONTHS_AHEAD * 31)
    assert len(changes) >= 4, "a zone with clock changes"
    for day in months_ahead(today):
        make_event(staff, day=day, start_time=time(10), end_time=time(11))
        make_appointment(advisor, student, days_ahead=(day - today).days + 1, hour=10)
    across_a_change, booked_across = set(), []
    for moment in changes:
        event = make_event(staff)
        for name, value in across(moment, timedelta(hours=1), timedelta(hours=1)).items():
            setattr(event, name, value)
        appointment = make_appointment(
            advisor, student, **across(moment, timedelta(minutes=15), timedelta(minutes=15))
        )
        across_a_change |= {f"event-{event.id}@portal.test", uid_of(appointment)}
        booked_across.append(appointment)
    db.session.commit()
    for event in db.session.scalars(select(Event).order_by(Event.starts_at)):
        rsvp(event.id, student, utcnow())  # each emails an .ics
    for appointment in booked_across:
        notify(appointment, "booked")  # to both, each with an .ics
    db.session.commit()
    return student, advisor, across_a_change


def uid_of(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}@portal.test"


def truth() -> dict[str, tuple[datetime, datetime]]:
    """Where each entry is, by UID: the instants the portal stored."""
    entries = {}
    for event in db.session.scalars(select(Event)):
        entries[f"event-{event.id}@portal.test"] = (event.starts_at, event.ends_at)
    for appointment in db.session.scalars(select(Appointment)):
        entries[uid_of(appointment)] = (appointment.starts_at, appointment.ends_at)
    return entries


def download_everything(app, login, smtp, people, across_a_change, folder) -> list:
    """Every calendar file the two people can get, saved as files: the student's download
    of each event and appointment, the advisor's of those across a clock change, both
    feeds, and every emailed attachment. Returns the paths."""
    student, advisor = people
    files = {}
    for person in people:
        client = login(person)
        for appointment in db.session.scalars(select(Appointment)):
            if person is student or uid_of(appointment) in across_a_change:
                path = f"/advising/appointments/{appointment.id}.ics"
                files[f"appointment-{appointment.id}-{person.role}.ics"] = client.get(path).data
        with app.test_request_context():
            url = feed_url(feed_for(person))
            db.session.commit()
        files[f"feed-{person.role}.ics"] = client.get(url.split("portal.test", 1)[1]).data
    client = login(student)
    for event in db.session.scalars(select(Event)):
        files[f"event-{event.id}.ics"] = client.get(f"/events/{event.id}.ics").data
    for number, message in enumerate(smtp.messages):
        for part in message.iter_attachments():
            if part.get_content_type() == "text/calendar":
                files[f"mail-{number}-{part.get_filename()}"] = part.get_payload(decode=True)
    paths = []
    for name, body in files.items():
        assert body.startswith(b"BEGIN:VCALENDAR"), name
        path = folder / name
        path.write_bytes(body)
        paths.append(path)
    return paths


@lru_cache
def dateutil_zone(vtimezone: bytes):
    """dateutil's reading of a VTIMEZONE, and nothing else (not the zone data)."""
    return Timezone.from_ical(vtimezone).to_tz(lookup_tzid=False)


def read_by_python(path) -> list[dict]:
    """icalendar with the zone data; dateutil with nothing but the file's VTIMEZONE."""
    calendar = Calendar.from_ical(path.read_bytes())
    own_zones = {str(tz["TZID"]): dateutil_zone(tz.to_ical()) for tz in calendar.walk("VTIMEZONE")}
    own_zones["UTC"] = UTC
    entries = []
    for vevent in calendar.walk("VEVENT"):
        start, end = vevent["DTSTART"], vevent["DTEND"]
        by_vtimezone = [
            prop.dt.replace(tzinfo=own_zones[prop.params.get("TZID", "UTC")]).astimezone(UTC)
            for prop in (start, end)
        ]
        entries.append(
            {
                "uid": str(vevent["UID"]),
                "zone": start.params.get("TZID", "UTC"),
                "icalendar": (start.dt.astimezone(UTC), end.dt.astimezone(UTC)),
                "dateutil": tuple(by_vtimezone),
                "alarms": [
                    vDuration(alarm["TRIGGER"].dt).to_ical().decode()
                    for alarm in vevent.walk("VALARM")
                ],
            }
        )
    return entries


def read_by_ical_js(paths) -> dict[str, list[dict]]:
    """ical.js under Node, once for all the files."""
    done = subprocess.run(
        [node(), str(ICAL_INSTANTS), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {result["file"]: result["events"] for result in json.loads(done.stdout)}


def utc(instant: str) -> datetime:
    return datetime.fromisoformat(instant)


def test_every_calendar_file_reads_the_same_in_icalendar_and_ical_js(
    app, ctx, login, smtp, tmp_path
):
    zone = ZoneInfo(app.config["CRP_TIMEZONE"])
    student, advisor, across_a_change = plan_the_next_two_years(zone)
    stored = truth()
    paths = download_everything(app, login, smtp, (student, advisor), across_a_change, tmp_path)

    by_ical_js = read_by_ical_js(paths)

    wrong, seen, in_utc = [], set(), set()
    for path in paths:
        in_js = {entry["uid"]: entry for entry in by_ical_js[str(path)]}
        for entry in read_by_python(path):
            uid = entry["uid"]
            seen.add(uid)
            js = in_js.pop(uid)
            readings = {
                "stored": stored[uid],
                "icalendar": entry["icalendar"],
                "dateutil": entry["dateutil"],
                "ical.js": (utc(js["start"]), utc(js["end"])),
            }
            if len(set(readings.values())) != 1 or js["startZone"] != entry["zone"]:
                wrong.append((path.name, uid, readings, entry["zone"], js["startZone"]))
            if entry["zone"] != zone.key:
                in_utc.add(uid)
            if entry["alarms"] != [AN_HOUR_BEFORE] or [
                alarm["trigger"] for alarm in js["alarms"]
            ] != [AN_HOUR_BEFORE]:
                wrong.append((path.name, uid, entry["alarms"], js["alarms"]))
        assert in_js == {}, f"{path.name}: ical.js found entries Python did not"
    assert wrong == []
    assert seen == set(stored), "every event and appointment was in some file"
    # Only a time in the hour repeated when clocks go back is written in UTC.
    assert in_utc <= across_a_change
    assert len(paths) > 4 * MONTHS_AHEAD
