"""Admins search the audit trail: who opened whose record, what, and when."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import render_template, request
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional, ValidationError

from crp_portal.access import admin_required
from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.members import bp
from crp_portal.members.models import AuditEntry
from crp_portal.search import like_pattern, page_number
from crp_portal.timeutil import program_zone

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
BAD_DATE = "Enter a real date, for example 2026-03-14."


def _plausible(form, field):
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError("Enter a date between the years 2000 and 2099.")


def _text(label: str) -> StringField:
    return StringField(
        label,
        validators=[Optional(), Length(max=100, message="Use at most 100 characters.")],
    )


class AuditSearchForm(FlaskForm):
    class Meta:
        csrf = False

    who = _text("Who (name or email)")
    whose = _text("Whose record (name or email)")
    what = _text("What was opened")
    date_from = DateField(
        "From", validators=[Optional(), _plausible], invalid_value_message=BAD_DATE
    )
    date_to = DateField("To", validators=[Optional(), _plausible], invalid_value_message=BAD_DATE)

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("The “to” date is before the “from” date.")


@dataclass(frozen=True)
class AuditFilter:
    who: str = ""
    whose: str = ""
    what: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _matches(person, text: str):
    pattern = like_pattern(text)
    return or_(
        func.lower(person.name).like(pattern, escape="\\"),
        person.email.like(pattern, escape="\\"),
    )


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=program_zone())


def search_audit(filters: AuditFilter, page: int, per_page: int = 50):
    """Audit entries matching every given filter, newest first; dates are local days."""
    statement = select(AuditEntry).options(
        selectinload(AuditEntry.actor), selectinload(AuditEntry.subject)
    )
    if filters.who:
        actor = aliased(User)
        statement = statement.join(actor, AuditEntry.actor_id == actor.id).where(
            _matches(actor, filters.who)
        )
    if filters.whose:
        subject = aliased(User)
        statement = statement.join(subject, AuditEntry.subject_id == subject.id).where(
            _matches(subject, filters.whose)
        )
    if filters.what:
        statement = statement.where(
            func.lower(AuditEntry.action).like(like_pattern(filters.what), escape="\\")
        )
    if filters.date_from:
        statement = statement.where(AuditEntry.created_at >= _local_midnight(filters.date_from))
    if filters.date_to:
        next_day = _local_midnight(filters.date_to + timedelta(days=1))
        statement = statement.where(AuditEntry.created_at < next_day)
    statement = statement.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


@bp.get("/admin/audit")
@admin_required
def audit_log():
    form = AuditSearchForm(request.args)
    if request.args and not form.validate():
        return render_template("admin/audit.html", form=form, page=None)
    filters = AuditFilter(
        who=(form.who.data or "").strip(),
        whose=(form.whose.data or "").strip(),
        what=(form.what.data or "").strip(),
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    page = search_audit(filters, page_number(request.args))
    return render_template("admin/audit.html", form=form, page=page)
