"""Weekly check-ins: mood, stress and sleep on 1–5 scales, a private note, and a way to
ask someone to reach out. One per student per week; saving again that week edits it.

The answers are the student's: staff see them only where the student shares check-ins
(`MemberProfile.share_check_ins_with_staff`). Asking for outreach always reaches staff,
as a follow-up that carries no answers (see `follow_ups`).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crp_portal import charts
from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import DomainError
from crp_portal.extensions import db
from crp_portal.recovery import follow_ups
from crp_portal.recovery.models import CHECK_IN_NOTE_MAX, SCALE_MAX, SCALE_MIN, CheckIn
from crp_portal.timeutil import local_today, week_start

SCALES = {"mood": "mood", "stress": "stress", "sleep": "sleep"}
PAST_LIMIT = 52


@dataclass(frozen=True)
class Answers:
    mood: int
    stress: int
    sleep: int
    note: str = ""
    wants_outreach: bool = False


def this_weeks_check_in(student_id: int, today: date) -> CheckIn | None:
    return db.session.scalar(
        select(CheckIn).where(
            CheckIn.student_id == student_id, CheckIn.week_start == week_start(today)
        )
    )


def recent_check_ins(student_id: int, weeks: int = 12, today: date | None = None) -> list[CheckIn]:
    """The check-ins of the last `weeks` weeks including this one, oldest first."""
    since = week_start(today or local_today()) - timedelta(weeks=max(weeks, 1) - 1)
    return list(
        db.session.scalars(
            select(CheckIn)
            .where(CheckIn.student_id == student_id, CheckIn.week_start >= since)
            .order_by(CheckIn.week_start)
        )
    )


def trend_chart(check_ins: list[CheckIn]) -> charts.LineChart | None:
    """Check-ins (oldest first) as a line chart of the three answers, a week apart, so a
    missed week shows as a gap; None when there are none."""
    if not check_ins:
        return None
    first = check_ins[0].week_start
    return charts.line_chart(
        "Mood, stress and sleep by week, 1 to 5",
        [f"{check_in.week_start.day} {check_in.week_start:%b}" for check_in in check_ins],
        [
            (scale.capitalize(), [getattr(check_in, scale) for check_in in check_ins])
            for scale in SCALES
        ],
        positions=[(check_in.week_start - first).days // 7 for check_in in check_ins],
        scale=(SCALE_MIN, SCALE_MAX),
        name_is_description=True,
    )


def past_check_ins(student_id: int, limit: int = PAST_LIMIT) -> list[CheckIn]:
    """The student's own history, newest first (a year's worth)."""
    return list(
        db.session.scalars(
            select(CheckIn)
            .where(CheckIn.student_id == student_id)
            .order_by(CheckIn.week_start.desc())
            .limit(limit)
        )
    )


def _check(answers: Answers) -> None:
    for name in SCALES:
        value = getattr(answers, name)
        if not isinstance(value, int) or not SCALE_MIN <= value <= SCALE_MAX:
            raise DomainError(f"Choose a number from {SCALE_MIN} to {SCALE_MAX} for {name}.")
    if len(answers.note.strip()) > CHECK_IN_NOTE_MAX:
        raise DomainError(f"Use at most {CHECK_IN_NOTE_MAX} characters.")


def _fill(check_in: CheckIn, answers: Answers) -> None:
    check_in.mood, check_in.stress, check_in.sleep = answers.mood, answers.stress, answers.sleep
    note = answers.note.strip() or None
    if note is not None or check_in.note_removed_at is None:
        check_in.note = note
    if note is not None:
        check_in.note_removed_at = None
    check_in.wants_outreach = answers.wants_outreach


def save_check_in(student: User, answers: Answers, today: date) -> CheckIn:
    """Save this week's check-in: the first of the week is created, later ones edit it.

    Two first submissions at once: the database's one-per-week rule refuses the second
    insert, which then edits the row the first one saved. Asking for outreach opens one
    follow-up for the check-in (unticking later leaves it for staff to resolve).
    """
    if student.role != STUDENT:
        raise DomainError("Only students do the weekly check-in.")
    _check(answers)
    check_in = this_weeks_check_in(student.id, today)
    asked_before = bool(check_in and check_in.wants_outreach)
    if check_in is None:
        check_in = CheckIn(student_id=student.id, week_start=week_start(today))
        _fill(check_in, answers)
        try:
            with db.session.begin_nested():
                db.session.add(check_in)
                db.session.flush()
        except IntegrityError:
            check_in = this_weeks_check_in(student.id, today)
            if check_in is None:  # the other request rolled back after all
                raise DomainError("Your check-in could not be saved. Send it again.") from None
            asked_before = check_in.wants_outreach
            _fill(check_in, answers)
    else:
        _fill(check_in, answers)
    db.session.flush()
    if check_in.wants_outreach:
        follow_ups.open_for_reach_out(check_in, asked_again=not asked_before)
    return check_in
