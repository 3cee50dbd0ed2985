"""A student's relapse-prevention plan: every save is a new version, earlier ones stay readable.

The plan is the student's own recovery data. Only the student reaches it through these
functions; staff see the current version on the member record only where the student
consented (`MemberProfile.share_plan_with_staff`). Advisors and peer mentors never see it.
"""

from sqlalchemy import select

from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.recovery.models import PLAN_SECTION_MAX, PLAN_SECTIONS, RecoveryPlanVersion
from crp_portal.unit_of_work import flush_or_conflict

SAVED_ELSEWHERE = (
    "Your plan was saved from another window at the same moment, so this change was not "
    "saved. Reload the page to see the latest version, then make your change again."
)


def current_plan(student_id: int) -> RecoveryPlanVersion | None:
    """The newest version of the student's plan, or None if they have not written one."""
    return db.session.scalar(
        select(RecoveryPlanVersion)
        .where(RecoveryPlanVersion.student_id == student_id)
        .order_by(RecoveryPlanVersion.version.desc())
        .limit(1)
    )


def plan_versions(student_id: int) -> list[RecoveryPlanVersion]:
    """Every version of the student's plan, newest first."""
    return list(
        db.session.scalars(
            select(RecoveryPlanVersion)
            .where(RecoveryPlanVersion.student_id == student_id)
            .order_by(RecoveryPlanVersion.version.desc())
        )
    )


def plan_version(student: User, version: int) -> RecoveryPlanVersion:
    """One version of the student's own plan; a version they never saved is not found.

    The lookup is by the student's own id and a version number, so another student's
    plan cannot be named at all.
    """
    found = db.session.scalar(
        select(RecoveryPlanVersion).where(
            RecoveryPlanVersion.student_id == student.id,
            RecoveryPlanVersion.version == version,
        )
    )
    if found is None:
        raise NotFound(f"Your plan has no version {version}.")
    return found


def clean_section(text: str | None) -> str:
    """One line ending style and no trailing blank space, so an unchanged form is unchanged."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def save_plan(student: User, sections: dict[str, str]) -> RecoveryPlanVersion | None:
    """Save the plan as a new version (previous + 1); None when nothing changed.

    Each section holds at most PLAN_SECTION_MAX characters; a plan with every section
    empty is refused. Two saves at the same moment cannot both take the next number
    (unique student and version): the second becomes a Conflict asking to reload.
    """
    if student.role != STUDENT:
        raise DomainError("Only students keep a relapse-prevention plan.")
    unknown = set(sections) - set(PLAN_SECTIONS)
    if unknown:
        raise DomainError(f"A plan has no section called {sorted(unknown)[0]}.")
    values = {name: clean_section(sections.get(name)) for name in PLAN_SECTIONS}
    for name, value in values.items():
        if len(value) > PLAN_SECTION_MAX:
            raise DomainError(f"{PLAN_SECTIONS[name]}: use at most {PLAN_SECTION_MAX} characters.")
    if not any(values.values()):
        raise DomainError("Write something in at least one section before saving your plan.")
    latest = current_plan(student.id)
    if latest is not None and all(getattr(latest, n) == v for n, v in values.items()):
        return None
    saved = RecoveryPlanVersion(
        student_id=student.id, version=(latest.version if latest else 0) + 1, **values
    )
    db.session.add(saved)
    flush_or_conflict(SAVED_ELSEWHERE)
    return saved
