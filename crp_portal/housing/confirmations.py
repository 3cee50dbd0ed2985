"""What a move or a move-out will do, said before anything changes (the board asks first).

These read without locking: they only describe. The change itself (`offers.move_resident`,
`offers.end_residency`) locks the assignment and checks everything again after the wait,
so a page that went stale while staff read it ends in the same 409 as a second click.
"""

from dataclasses import dataclass

from crp_portal.errors import Conflict, DomainError
from crp_portal.extensions import db
from crp_portal.housing.models import AssignmentStatus, Bed, BedAssignment
from crp_portal.housing.offers import TAKEN, live_assignments


def bed_name(bed: Bed) -> str:
    accessible = " (accessible)" if bed.accessible else ""
    return f"{bed.room.house.name}, room {bed.room.name}, bed {bed.label}{accessible}"


@dataclass(frozen=True)
class MovePlan:
    assignment: BedAssignment
    from_bed: Bed
    to_bed: Bed

    @property
    def changes_house(self) -> bool:
        return self.from_bed.room.house_id != self.to_bed.room.house_id


def _check_accepted(assignment: BedAssignment, what: str) -> None:
    if assignment.status != AssignmentStatus.ACCEPTED:
        raise Conflict(f"Only an accepted resident {what}.")


def plan_move(assignment: BedAssignment, bed_id: int | None) -> MovePlan:
    """The move to `bed_id` as it would go now: a bed in use, free this term."""
    _check_accepted(assignment, "can be moved")
    bed = db.session.get(Bed, bed_id) if bed_id else None
    if bed is None or not bed.active or not bed.room.house.active:
        raise DomainError("Choose a bed that is in use from the list.")
    if bed.id == assignment.bed_id:
        raise DomainError("That is the bed they hold now. Choose another bed.")
    if bed.id in live_assignments(assignment.term_id):
        raise Conflict(TAKEN)
    return MovePlan(assignment, assignment.bed, bed)


def check_can_end(assignment: BedAssignment) -> BedAssignment:
    _check_accepted(assignment, "has a residency to end")
    return assignment
