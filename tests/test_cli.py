"""`flask seed-demo` and `flask create-admin`."""

import pytest
from sqlalchemy import func, select

from crp_portal import create_app
from crp_portal.access import SCOPES
from crp_portal.auth.models import User
from crp_portal.auth.services import authenticate
from crp_portal.demo import DEMO_PASSWORD
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile
from crp_portal.terms.models import Term
from crp_portal.terms.services import current_term
from crp_portal.timeutil import local_today
from tests.factories import make_user

DEMO_ACCOUNTS = [
    "staff@example.edu",
    "housing@example.edu",
    "events@example.edu",
    "reports@example.edu",
    "advisor@example.edu",
    "student@example.edu",
    "student01@example.edu",
    "student40@example.edu",
]


def test_seed_demo_builds_a_believable_program_around_today(app, ctx):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "recovery-demo" in result.output
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {"staff": 4, "advisor": 3, "student": 41}
    scopes = {user.email: user.scopes for user in db.session.scalars(select(User))}
    assert scopes["staff@example.edu"] == set(SCOPES)
    assert scopes["housing@example.edu"] == {"housing"}
    assert scopes["events@example.edu"] == {"events"}
    assert scopes["reports@example.edu"] == {"reports"}
    term = current_term(local_today())
    assert term is not None and len(term.periods) >= 6
    statuses = set(db.session.scalars(select(MemberProfile.status)))
    assert {"active", "applicant", "alumni", "inactive"} <= statuses


def test_every_demo_account_signs_in_with_the_demo_password(app, ctx):
    app.test_cli_runner().invoke(args=["seed-demo"])
    for email in DEMO_ACCOUNTS:
        assert authenticate(email, DEMO_PASSWORD) is not None, email


def test_seed_demo_twice_changes_nothing(app, ctx):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert "already has accounts" in again.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 48
    assert db.session.scalar(select(func.count()).select_from(Term)) == 3


def test_seed_demo_leaves_a_real_programs_database_alone(app, ctx):
    make_user("staff", email="real.coordinator@university.edu")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert "already has accounts" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_seed_demo_refuses_in_production(monkeypatch, database_url):
    monkeypatch.setenv("SECRET_KEY", "real-secret-of-at-least-32-bytes!")
    monkeypatch.setenv("CRP_BASE_URL", "https://crp.example.edu")
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": database_url})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "refuses to run in production" in result.output


def test_create_admin_makes_a_staff_admin_who_can_sign_in(app, ctx):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "Lead@Univ.edu", "--name", "Lead Person"],
        input="a strong passphrase\na strong passphrase\n",
    )
    assert result.exit_code == 0, result.output
    user = authenticate("lead@univ.edu", "a strong passphrase")
    assert user is not None and user.role == "staff" and user.is_admin


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--email", "a@univ.edu", "--name", "A"], "short", "at least 12 characters"),
        (["--email", "not-an-email", "--name", "A"], "a strong passphrase", "valid email"),
        (["--email", "a@univ.edu", "--name", " "], "a strong passphrase", "name of 1 to 120"),
    ],
)
def test_create_admin_explains_bad_input(app, ctx, args, password, message):
    result = app.test_cli_runner().invoke(
        args=["create-admin", *args], input=f"{password}\n{password}\n"
    )
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_admin_refuses_an_existing_email(app, ctx):
    make_user("student", email="a@univ.edu")
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "a@univ.edu", "--name", "A"],
        input="a strong passphrase\na strong passphrase\n",
    )
    assert result.exit_code != 0 and "already has an account" in result.output
