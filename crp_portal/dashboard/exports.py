"""Dashboard tables as they may leave the program: counts of people below CRP_MIN_CELL
shown as "<5" (zero too, as in the nudge report: "none of them" says something about
each of them), and any rate computed from a suppressed count shown as "suppressed".

Counts of things that are not people (events held, beds) describe nobody and are shown
exactly. Attendance is shown in parts (by name, by headcount) and in total; a total is
held back ("suppressed") when it and the other part would give away a small part.

The list of members whose participation fell names people and is never exported.
"""

from dataclasses import dataclass

from crp_portal import csv_export
from crp_portal.dashboard.queries import Figures
from crp_portal.timeutil import format_date

SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class Parts:
    """A count of people and its parts, as shown."""

    total: str
    named: str
    headcount: str


@dataclass(frozen=True)
class Formatter:
    """How numbers are shown: in full for staff on screen, suppressed in exports."""

    minimum: int
    suppress: bool

    def hidden(self, value: int) -> bool:
        return self.suppress and value < self.minimum

    def count(self, value: int) -> str:
        """A count of people (or of what people did): small ones suppressed."""
        # `hidden`, written out: this is called for nearly every cell of the dashboard.
        return f"<{self.minimum}" if self.suppress and value < self.minimum else str(value)

    def exact(self, value: int) -> str:
        """A count of things that are not people, such as events held: always in full."""
        return str(value)

    def attendance(self, named: int, headcount: int) -> Parts:
        """People recorded by name, counted by headcount, and both. When one part is
        suppressed and the other shown, the total would give the small part away, so it
        is suppressed too; unless that part is none at all (a kind whose meetings keep no
        names has no attendance by name, which says nothing about anyone)."""
        total = self.count(named + headcount)
        small = [n for n in (named, headcount) if self.hidden(n)]
        if len(small) == 1 and small[0] and not self.hidden(named + headcount):
            total = SUPPRESSED
        return Parts(total, self.count(named), self.count(headcount))

    def rate(self, numerator: int, denominator: int) -> str:
        """A percentage; "—" when there is nothing to divide by."""
        if self.hidden(numerator) or self.hidden(denominator):
            return SUPPRESSED
        if not denominator:
            return "—"
        return f"{round(100 * numerator / denominator)}%"

    def ratio(self, numerator: int, denominator: int) -> str:
        """An average to one decimal place, e.g. events per member."""
        if self.hidden(numerator) or self.hidden(denominator):
            return SUPPRESSED
        if not denominator:
            return "—"
        return f"{numerator / denominator:.1f}"


Row = tuple[str, ...]  # a table row as shown: its heading cell, then the other cells


@dataclass(frozen=True)
class Shown:
    """The dashboard page's tables, each cell a string as the `Formatter` shows it and
    each row a tuple: the page lays them out without a call per cell, and a table body
    is kept once rendered (crp_portal.fragments) under its rows. (The CSV files are
    `table`.)"""

    status: tuple[Row, ...]  # label, members (not "joined": the page adds that row)
    events_by_kind: tuple[Row, ...]  # label, held, and `Parts`
    weekly: tuple[Row, ...]  # "first day – last day", attendance, unique
    advising: tuple[Row, ...]  # label, appointments
    housing: tuple[Row, ...]  # house, beds taken, active beds, occupancy
    tiers: tuple[Row, ...]  # tier, active members


def shown(figures: Figures, fmt: Formatter) -> Shown:
    """The tables of `figures` as the dashboard page (or its printable report) shows them."""
    count = fmt.count
    kinds = []
    for row in figures.events_by_kind:
        people = fmt.attendance(row.named_attendance, row.headcount)
        kinds.append(
            (row.label, fmt.exact(row.events), people.total, people.named, people.headcount)
        )
    return Shown(
        status=tuple((row.label, count(row.count)) for row in figures.members.by_status),
        events_by_kind=tuple(kinds),
        weekly=tuple(
            (
                f"{format_date(week.start)} – {format_date(week.end)}",
                count(week.attendance),
                count(week.unique_attendees),
            )
            for week in figures.weekly
        ),
        advising=tuple((row.label, count(row.count)) for row in figures.advising),
        housing=tuple(
            (row.name, count(row.occupied), fmt.exact(row.beds), fmt.rate(row.occupied, row.beds))
            for row in figures.housing.houses
        ),
        tiers=tuple((row.tier, count(row.members)) for row in figures.engagement.tiers),
    )


@dataclass(frozen=True)
class Table:
    name: str
    caption: str
    header: list[str]
    rows: list[list[str]]


TABLES = ("status", "events_by_kind", "weekly", "advising", "housing", "tiers")


def table(figures: Figures, name: str, fmt: Formatter) -> Table:
    """One of the dashboard's tables (`TABLES`) as strings; KeyError for any other name."""
    return _BUILDERS[name](figures, fmt)


def _status(figures: Figures, fmt: Formatter) -> Table:
    rows = [[row.label, fmt.count(row.count)] for row in figures.members.by_status]
    rows.append(["Joined in the range", fmt.count(figures.members.joined_in_range)])
    return Table("status", "Members by current status", ["Status", "Members"], rows)


def _events_by_kind(figures: Figures, fmt: Formatter) -> Table:
    rows = []
    for row in figures.events_by_kind:
        people = fmt.attendance(row.named_attendance, row.headcount)
        rows.append(
            [row.label, fmt.exact(row.events), people.total, people.named, people.headcount]
        )
    return Table(
        "events_by_kind",
        "Events held by kind",
        ["Kind", "Events held", "Attendance", "Attendance by name", "Headcount"],
        rows,
    )


def _weekly(figures: Figures, fmt: Formatter) -> Table:
    rows = [
        [
            week.start.isoformat(),
            week.end.isoformat(),
            fmt.count(week.attendance),
            fmt.count(week.unique_attendees),
        ]
        for week in figures.weekly
    ]
    return Table(
        "weekly",
        "Attendance by week",
        ["Week from", "Week to", "Attendance", "Unique attendees"],
        rows,
    )


def _advising(figures: Figures, fmt: Formatter) -> Table:
    rows = [[row.label, fmt.count(row.count)] for row in figures.advising]
    return Table("advising", "Advising appointments by status", ["Status", "Appointments"], rows)


def _housing(figures: Figures, fmt: Formatter) -> Table:
    rows = [
        [row.name, fmt.count(row.occupied), fmt.exact(row.beds), fmt.rate(row.occupied, row.beds)]
        for row in figures.housing.houses
    ]
    term = figures.housing.term_name or "no term"
    return Table(
        "housing",
        f"Housing occupancy, {term}",
        ["House", "Beds taken (accepted)", "Active beds", "Occupancy"],
        rows,
    )


def _tiers(figures: Figures, fmt: Formatter) -> Table:
    rows = [[row.tier, fmt.count(row.members)] for row in figures.engagement.tiers]
    return Table(
        "tiers",
        "Active members by touches in the last 30 days",
        ["Touches", "Active members"],
        rows,
    )


_BUILDERS = {
    "status": _status,
    "events_by_kind": _events_by_kind,
    "weekly": _weekly,
    "advising": _advising,
    "housing": _housing,
    "tiers": _tiers,
}


def to_csv(figures: Figures, name: str, minimum: int) -> str:
    """The table as CSV with suppression applied (the range is in the file name)."""
    built = table(figures, name, Formatter(minimum, suppress=True))
    return csv_export.to_csv(built.header, built.rows)
