"""Event reminders: an email some hours before each event a student is going to, sent by
the scheduled job (`flask events send-reminders`), each once.

Staff choose per kind of event whether reminders go and how long before (a kind without
a saved choice: on, a day before). Students may stop them (the "event reminders" email
category, from their profile or the link in the email). A reminder is transactional
mail: it goes out when it is due, not held back by the nudges' quiet hours.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import selectinload

from crp_portal.auth.models import User
from crp_portal.errors import DomainError, NotFound
from crp_portal.events.calendars import event_ics, title_for
from crp_portal.events.locks import locked_event
from crp_portal.events.models import (
    DEFAULT_REMINDER_HOURS,
    KINDS,
    REMINDER_LEAD_HOURS,
    Event,
    EventReminderSetting,
    EventStatus,
    Rsvp,
    RsvpStatus,
)
from crp_portal.events.queries import visible_event
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.mail import queue_rendered, render_mail
from crp_portal.members.models import EVENT_REMINDERS, EmailOptOut
from crp_portal.nudges.unsubscribe import unsubscribe_url
from crp_portal.timeutil import format_datetime, to_local
from crp_portal.unit_of_work import flush_or_conflict


@dataclass(frozen=True)
class ReminderRule:
    """Whether events of a kind are reminded, and how many hours before they start."""

    kind: str
    enabled: bool = True
    lead_hours: int = DEFAULT_REMINDER_HOURS

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def lead(self) -> timedelta:
        return timedelta(hours=self.lead_hours)

    @property
    def lead_label(self) -> str:
        return REMINDER_LEAD_HOURS.get(self.lead_hours, f"{self.lead_hours} hours before")


def reminder_rules() -> list[ReminderRule]:
    """One rule per kind of event, in the order kinds are listed; defaults where staff
    saved nothing."""
    saved = {row.kind: row for row in db.session.scalars(select(EventReminderSetting))}
    rules = []
    for kind in KINDS:
        row = saved.get(kind)
        rules.append(
            ReminderRule(kind) if row is None else ReminderRule(kind, row.enabled, row.lead_hours)
        )
    return rules


def save_reminder_rules(wanted: list[ReminderRule], staff: User) -> None:
    """Store staff's choice for each kind. Locks the saved rows; a kind saved for the first
    time by two people at once is refused to the second (reload and try again)."""
    for rule in wanted:
        if rule.kind not in KINDS:
            raise DomainError("Choose from the listed kinds of event.")
        if rule.lead_hours not in REMINDER_LEAD_HOURS:
            raise DomainError("Choose how long before from the list.")
    saved = {
        row.kind: row
        for row in db.session.scalars(
            select(EventReminderSetting).with_for_update().execution_options(populate_existing=True)
        )
    }
    for rule in wanted:
        row = saved.get(rule.kind)
        if row is None:
            row = EventReminderSetting(kind=rule.kind)
            db.session.add(row)
        row.enabled, row.lead_hours, row.updated_by_id = rule.enabled, rule.lead_hours, staff.id
    flush_or_conflict("Someone saved reminder settings meanwhile. Reload the page and try again.")


def _due_events(rule: ReminderRule, now: datetime) -> list[int]:
    """Events of the rule's kind starting within its lead time with someone going who has
    not been reminded of this start."""
    not_reminded = exists().where(
        Rsvp.event_id == Event.id,
        Rsvp.status == RsvpStatus.GOING,
        or_(Rsvp.reminded_for.is_(None), Rsvp.reminded_for != Event.starts_at),
    )
    return list(
        db.session.scalars(
            select(Event.id)
            .where(
                Event.kind == rule.kind,
                Event.status == EventStatus.SCHEDULED,
                Event.starts_at > now,
                Event.starts_at <= now + rule.lead,
                not_reminded,
            )
            .order_by(Event.starts_at, Event.id)
        )
    )


def _claim(event: Event, rule: ReminderRule) -> list[int]:
    """Mark as reminded, for this start, everyone going who has not been and still wants
    reminders; the people marked. One conditional UPDATE: of two runs at once, the second
    waits for the first's row locks, finds the rows reminded, and claims none.

    Someone who said they were going after the reminder time (`queued_at`) just had the
    confirmation with the .ics, so is not reminded as well."""
    opted_out = exists().where(
        EmailOptOut.user_id == Rsvp.user_id, EmailOptOut.category == EVENT_REMINDERS
    )
    active = exists().where(User.id == Rsvp.user_id, User.active.is_(True))
    claimed = db.session.execute(
        update(Rsvp)
        .where(
            Rsvp.event_id == event.id,
            Rsvp.status == RsvpStatus.GOING,
            or_(Rsvp.reminded_for.is_(None), Rsvp.reminded_for != event.starts_at),
            Rsvp.queued_at <= event.starts_at - rule.lead,
            ~opted_out,
            active,
        )
        .values(reminded_for=event.starts_at, updated_at=Rsvp.updated_at)
        .returning(Rsvp.user_id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def _remind(event: Event, user: User, now: datetime) -> None:
    """Queued as written at `now`, the moment the run acts as, and due then."""
    title = title_for(event, user)
    mail = render_mail(
        user.email,
        f"Reminder: {title}, {format_datetime(event.starts_at)}",
        "events/reminder",
        attachments=[("event.ics", "text/calendar; method=PUBLISH", event_ics(event, user))],
        user=user,
        event=event,
        title=title,
        link=portal_url("events.detail", event_id=event.id),
    )
    queue_rendered(
        mail, user_id=user.id, unsubscribe_url=unsubscribe_url(user.id, EVENT_REMINDERS), now=now
    )


def _may_see(event: Event, user: User, now: datetime) -> bool:
    """The event is still one the person may see (`queries.visible_to`): a resident who
    has moved out is not reminded of the house's meeting, as their feed drops it too."""
    try:
        visible_event(event.id, user, to_local(now).date())
    except NotFound:
        return False
    return True


def send_due_reminders(now: datetime) -> int:
    """Queue a reminder for each person going to an event due one; the number queued.

    Each event is read under a share lock (`locked_event`), so an edit or cancellation
    waits for this run, or this run sees it: no reminder for a cancelled event or an old
    time. The RSVPs are claimed by a conditional UPDATE (`_claim`), so overlapping runs,
    on one host or several, remind each person once; a moved event is reminded again for
    its new time, since the old reminder was for another start.
    """
    sent = 0
    for rule in reminder_rules():
        if not rule.enabled:
            continue
        for event_id in _due_events(rule, now):
            event = locked_event(event_id, shared=True)
            due = now < event.starts_at <= now + rule.lead
            if event.is_cancelled or event.kind != rule.kind or not due:
                continue
            user_ids = _claim(event, rule)
            if not user_ids:
                continue
            people = db.session.scalars(
                select(User).where(User.id.in_(user_ids)).options(selectinload(User.profile))
            )
            for user in people:
                if _may_see(event, user, now):
                    _remind(event, user, now)
                    sent += 1
    db.session.flush()
    return sent
