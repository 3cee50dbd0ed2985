"""Who lives in a recovery house today, as other areas ask it (house meetings are theirs).

A resident holds an accepted bed assignment and has moved in (on the move-in date, or
the term's first day when none was set) and not yet moved out (the move-out date, or the
end of the term). An offer, an accepted bed before move-in and an ended residency do not
count: where a house is must reach only the people living there.
"""

from datetime import date

from sqlalchemy import Select, func, or_, select

from crp_portal.housing.models import AssignmentStatus, Bed, BedAssignment, Room
from crp_portal.terms.models import Term


def current_house_ids(student_id: int, today: date) -> Select:
    """`SELECT house_id` of the houses the student lives in today, to use as a subquery."""
    return (
        select(Room.house_id)
        .select_from(BedAssignment)
        .join(Bed, Bed.id == BedAssignment.bed_id)
        .join(Room, Room.id == Bed.room_id)
        .join(Term, Term.id == BedAssignment.term_id)
        .where(
            BedAssignment.student_id == student_id,
            BedAssignment.status == AssignmentStatus.ACCEPTED,
            func.coalesce(BedAssignment.move_in_on, Term.starts_on) <= today,
            or_(BedAssignment.move_out_on.is_(None), BedAssignment.move_out_on > today),
            Term.ends_on >= today,
        )
    )
