"""Shared form pieces answer bad input with a clear message."""

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms.validators import Optional

from crp_portal import create_app
from crp_portal.forms import BoundedIntegerField


class CapacityForm(FlaskForm):
    class Meta:
        csrf = False

    capacity = BoundedIntegerField("Capacity", minimum=1, maximum=500, validators=[Optional()])


@pytest.fixture
def form_app():
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize(
    "raw",
    ["9" * 400, "-" + "9" * 5000, "12.5", "1e9", "ten", "٣", "0", "501", " 99999999999999999999 "],
)
def test_bounded_integer_refuses_junk_with_a_message(form_app, raw):
    with form_app.test_request_context():
        form = CapacityForm(MultiDict({"capacity": raw}))
        assert not form.validate()
        assert form.errors["capacity"] == ["Enter a whole number from 1 to 500."]


@pytest.mark.parametrize(("raw", "value"), [("1", 1), (" 500 ", 500), ("", None)])
def test_bounded_integer_accepts_numbers_in_range(form_app, raw, value):
    with form_app.test_request_context():
        form = CapacityForm(MultiDict({"capacity": raw}))
        assert form.validate(), form.errors
        assert form.capacity.data == value
