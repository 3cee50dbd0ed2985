"""The dashboard's filter: a term, or a custom range of local dates (GET, no CSRF)."""

from wtforms.validators import Optional, ValidationError

from crp_portal.dashboard.ranges import MAX_RANGE_DAYS, DateRange
from crp_portal.forms import BoundedDateField, PortalForm, PortalSelectField, choices, filled


class TermFilterForm(PortalForm):
    """A GET filter choosing one of the given terms (or none)."""

    class Meta:
        csrf = False

    term = PortalSelectField("Term", validators=[Optional()], validate_choice=False)

    def __init__(self, *args, terms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._terms = [(str(term.id), term.name) for term in terms]
        self.term.choices = choices(self._terms)
        self._term_ids = {value for value, _ in self._terms}

    def term_options(self) -> list[tuple[str, str, bool]]:
        """(value, name, selected) of each term, as the select lists them, for a page that
        writes its own <select> (the dashboard: WTForms' widget was a twentieth of a visit)."""
        chosen = self.term.data
        return [(value, name, value == chosen) for value, name in self._terms]

    def validate_term(self, field):
        if field.data and field.data not in self._term_ids:
            raise ValidationError("Choose a term from the list.")


class DashboardFilterForm(TermFilterForm):
    start = BoundedDateField("From", validators=[Optional()])
    end = BoundedDateField("To", validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        """Each field on its own, then the range as a whole (an empty field skips its
        own validators, so the pair is checked here)."""
        if not super().validate(extra_validators):
            return False
        start, end = self.start.data, self.end.data
        problem = None
        if (start is None) != (end is None):
            problem = "Enter both dates of the range, or neither to use a term."
        elif start and end:
            if start > end:
                problem = "The range must end on or after the day it starts."
            elif (end - start).days + 1 > MAX_RANGE_DAYS:
                problem = "Choose a range of at most 3 years."
        if problem:
            (self.start if end is None else self.end).errors.append(problem)  # type: ignore[attr-defined]  # a list once validated; the stubs say Sequence
            return False
        return True

    @property
    def is_custom(self) -> bool:
        return self.start.data is not None and self.end.data is not None

    def custom_range(self) -> DateRange:
        """Only when `is_custom`: both dates are given."""
        return DateRange(filled(self.start.data), filled(self.end.data))
