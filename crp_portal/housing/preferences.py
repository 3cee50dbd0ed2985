"""Which free bed an offer starts with: the student's first choice of house.

Staff may pick any free bed; the form only starts on the one the application points to.
Houses rank in the order the student chose them (first choice, then second, then the
rest). A student who wrote accessibility needs starts on an accessible bed wherever one is
free, even outside their chosen houses, since a house they cannot use is no first choice;
staff read the needs beside the form and may choose otherwise. A student who wrote none
starts on a bed that is not accessible in their first-choice house when there is one, so
accessible beds stay free for those who need them, but never at the cost of the house.
"""

from crp_portal.housing.models import Bed, HousingApplication


def preferred_bed(application: HousingApplication, free: list[Bed]) -> Bed | None:
    """The free bed to preselect for this application, or None when none is free."""
    if not free:
        return None
    choices = [c for c in (application.first_choice_id, application.second_choice_id) if c]
    needs_access = bool((application.accessibility_needs or "").strip())

    def house_rank(bed: Bed) -> int:
        house_id = bed.room.house_id
        return choices.index(house_id) if house_id in choices else len(choices)

    def rank(indexed: tuple[int, Bed]) -> tuple:
        order, bed = indexed
        if needs_access:
            return (not bed.accessible, house_rank(bed), order)
        return (house_rank(bed), bed.accessible, order)

    return min(enumerate(free), key=rank)[1]
