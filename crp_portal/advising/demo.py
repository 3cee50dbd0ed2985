"""Demo advising: weekly hours for each advisor, a few past and upcoming appointments, and
a few students staff assigned to each advisor (so "Book for a student" lists someone)."""

from datetime import date, datetime, time, timedelta

from crp_portal.advising.availability import add_window
from crp_portal.advising.closed_days import open_day, upcoming_closed_days
from crp_portal.advising.models import Appointment, AppointmentCell, AppointmentStatus
from crp_portal.extensions import db
from crp_portal.timeutil import local_to_utc

HOURS = [
    [(0, time(9), time(12), "in_person", "Academic Success Center, room 3"),
     (2, time(13), time(16), "video", "https://meet.example.edu/advising-shah")],
    [(1, time(10), time(13), "in_person", "Library, room 210"),
     (3, time(14), time(17), "phone", "555-0142")],
    [(2, time(9), time(11, 30), "in_person", "Student Services, room 118"),
     (4, time(9), time(12), "video", "https://meet.example.edu/advising-garcia")],
]  # fmt: skip


def _at(day: date, hour: int) -> datetime:
    return local_to_utc(datetime.combine(day, time(hour)))


ASSIGNED_PER_ADVISOR = 3


def _open_one_break_day(advisor, today: date) -> None:
    """The first advisor opened one break day for booking (the rest stay closed), so
    their availability page shows both."""
    closed = [day for day in upcoming_closed_days(advisor.id, today) if day.day > today]
    if len(closed) > 1:
        open_day(advisor, closed[0].day, today)


def seed_advising(today: date, advisors, students) -> int:
    """Give advisors hours, book a handful of appointments around today (students[:5]),
    and assign each advisor a few more students (students[5:], in turn)."""
    for advisor, windows in zip(advisors, HOURS, strict=False):
        for weekday, start, end, mode, place in windows:
            add_window(advisor, weekday, start, end, mode, place)
    plan = [
        (-14, 10, AppointmentStatus.COMPLETED, "Planned spring courses; lighter load while working 15 h/week.",
         "Email the registrar about the prerequisite waiver\nBook a tutor for statistics"),
        (-7, 11, AppointmentStatus.NO_SHOW, "", ""),
        (-3, 14, AppointmentStatus.COMPLETED, "Talked through the incomplete in BIO 201 and a plan to finish it.",
         "Submit lab reports 4 and 5 by Friday"),
        (2, 10, AppointmentStatus.BOOKED, "", ""),
        (5, 15, AppointmentStatus.BOOKED, "", ""),
    ]  # fmt: skip
    made = 0
    for index, (offset, hour, status, summary, actions) in enumerate(plan):
        advisor, student = advisors[index % len(advisors)], students[index]
        starts = _at(today + timedelta(days=offset), hour)
        demo_appointment(
            advisor, student, starts, topic="course_planning",
            place=HOURS[index % len(HOURS)][0][4], status=status, summary=summary,
            action_items=actions,
        )  # fmt: skip
        made += 1
    _open_one_break_day(advisors[0], today)
    assigned = students[len(plan) : len(plan) + ASSIGNED_PER_ADVISOR * len(advisors)]
    for index, student in enumerate(assigned):
        student.profile.advisor_id = advisors[index % len(advisors)].id
    db.session.flush()
    return made


def demo_appointment(advisor, student, starts: datetime, **fields) -> Appointment:
    """A 30-minute appointment with the cells that hold its time, as booking makes them."""
    values = {
        "topic": "registration", "student_note": "", "mode": "in_person",
        "place": "Academic Success Center, room 3", "status": AppointmentStatus.BOOKED,
    } | fields  # fmt: skip
    appointment = Appointment(
        advisor_id=advisor.id, student_id=student.id, starts_at=starts,
        ends_at=starts + timedelta(minutes=30), booked_by_id=student.id, **values,
    )  # fmt: skip
    db.session.add(appointment)
    db.session.flush()
    for minute in range(0, 30, 5):
        db.session.add(
            AppointmentCell(
                appointment_id=appointment.id, advisor_id=advisor.id, student_id=student.id,
                cell_start=starts + timedelta(minutes=minute),
            )
        )  # fmt: skip
    return appointment
