"""Peer mentors see their mentees' names and contact details only, and log contacts as facts."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from crp_portal.audit.models import AuditEntry
from crp_portal.errors import DomainError
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile
from crp_portal.mentoring import services as mentoring
from crp_portal.mentoring.models import MentorContact
from crp_portal.recovery import plan
from crp_portal.timeutil import format_date, local_today
from tests.factories import add_contacts, make_support_person, make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def make_mentor(name: str | None = None):
    mentor = make_user("student", name=name)
    mentoring.set_peer_mentor(mentor.profile, True)
    db.session.commit()
    return mentor


def make_mentee(mentor, name: str | None = None, **profile_fields):
    mentee = make_user("student", name=name)
    for key, value in profile_fields.items():
        setattr(mentee.profile, key, value)
    mentoring.assign_mentor(mentee.profile, mentor.id)
    db.session.commit()
    return mentee


def make_contact(mentor, mentee, days_ago: int = 0, minutes: int = 30, topics=("check_in",)):
    contact = mentoring.log_contact(
        mentor,
        mentee.id,
        local_today() - timedelta(days=days_ago),
        "phone",
        minutes,
        list(topics),
        local_today(),
    )
    db.session.commit()
    return contact


def contact_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MentorContact))


def contact_form(**changes) -> dict:
    values = {
        "contact_date": local_today().isoformat(),
        "mode": "in_person",
        "minutes": "45",
        "topics": ["academics", "events"],
    }
    values.update(changes)
    return values


# Staff set mentors


def test_staff_mark_a_mentor_and_assign_a_mentee(ctx, login):
    mentor = make_user("student", name="Morgan Mentor")
    mentee = make_user("student", name="Mia Mentee")
    staff = login(make_user("staff"))

    mark = {"is_peer_mentor": "y", "mentor_id": "0"}
    marked = staff.post(f"/members/{mentor.id}/mentoring", data=mark, follow_redirects=True)
    assert "Saved Morgan Mentor's mentoring." in text(marked)
    page = text(staff.get(f"/members/{mentee.id}/mentoring"))
    assert f'<option value="{mentor.id}">Morgan Mentor</option>' in page

    assign = {"mentor_id": str(mentor.id)}
    assigned = staff.post(f"/members/{mentee.id}/mentoring", data=assign, follow_redirects=True)
    assert "Saved Mia Mentee's mentoring." in text(assigned)
    db.session.expire_all()
    assert db.session.get(MemberProfile, mentee.id).mentor_id == mentor.id
    assert "Mia Mentee" in text(staff.get(f"/members/{mentor.id}/mentoring"))


def test_opening_a_mentoring_record_is_audited(ctx, login):
    student = make_user("student")
    staff_user = make_user("staff", name="Sam Staff")
    login(staff_user).get(f"/members/{student.id}/mentoring")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.subject_id == student.id))
    assert (entry.actor_id, entry.action) == (staff_user.id, "mentoring record")


def test_unmarking_a_mentor_unassigns_their_mentees(ctx, login):
    mentor = make_mentor(name="Morgan Mentor")
    first, second = make_mentee(mentor), make_mentee(mentor)
    response = login(make_user("staff")).post(
        f"/members/{mentor.id}/mentoring", data={"mentor_id": "0"}, follow_redirects=True
    )
    assert "Morgan Mentor is no longer a peer mentor: 2 mentees now have no mentor." in text(
        response
    )
    db.session.expire_all()
    assert db.session.get(MemberProfile, first.id).mentor_id is None
    assert db.session.get(MemberProfile, second.id).mentor_id is None
    assert not db.session.get(MemberProfile, mentor.id).is_peer_mentor


def test_a_mentor_must_be_an_active_peer_mentor(ctx, login):
    not_a_mentor = make_user("student", name="Nora Notmentor")
    alumni_mentor = make_mentor()
    alumni_mentor.profile.status = "alumni"
    db.session.commit()
    student = make_user("student")
    staff = login(make_user("staff"))

    page = text(staff.get(f"/members/{student.id}/mentoring"))
    assert "Nora Notmentor" not in page
    assert f'value="{alumni_mentor.id}"' not in page
    for candidate in (not_a_mentor, alumni_mentor):
        response = staff.post(
            f"/members/{student.id}/mentoring", data={"mentor_id": str(candidate.id)}
        )
        assert response.status_code == 200
        assert "Choose one of the listed options." in text(response)
    with pytest.raises(DomainError, match="active member marked as a peer mentor"):
        mentoring.assign_mentor(student.profile, not_a_mentor.id)
    with pytest.raises(DomainError, match="own mentor"):
        mentoring.assign_mentor(alumni_mentor.profile, alumni_mentor.id)
    db.session.rollback()
    assert db.session.get(MemberProfile, student.id).mentor_id is None


def test_only_active_members_can_be_marked_and_only_students_take_part(ctx, login):
    applicant = make_user("student", status="applicant")
    staff = login(make_user("staff"))
    response = staff.post(f"/members/{applicant.id}/mentoring", data={"is_peer_mentor": "y"})
    assert "Only active members can be peer mentors." in text(response)
    db.session.expire_all()
    assert not db.session.get(MemberProfile, applicant.id).is_peer_mentor
    advisor = make_user("advisor")
    refused = staff.get(f"/members/{advisor.id}/mentoring")
    assert refused.status_code == 400
    assert "Only students can be peer mentors or mentees." in text(refused)
    assert staff.get("/members/999999/mentoring").status_code == 404


# The mentor's pages


def test_a_mentor_sees_only_their_mentees_names_and_contact_details(ctx, login):
    mentor = make_mentor()
    mentee = make_mentee(
        mentor, name="Mia Mentee", preferred_name="Mimi", pronouns="she/her", phone="555-0199"
    )
    recovery_date = local_today() - timedelta(days=400)
    mentee.profile.recovery_date = recovery_date
    make_support_person(mentee, name="Jordan Sponsor")
    plan.save_plan(mentee, {"triggers": "Secret trigger"})
    db.session.commit()
    client = login(mentor)

    listing = text(client.get("/mentoring/"))
    assert "Mia Mentee" in listing and "Mimi" in listing and "she/her" in listing
    page = text(client.get(f"/mentoring/{mentee.id}"))
    for shown in ("Mia Mentee", "Mimi", "she/her", mentee.email, "555-0199"):
        assert shown in page
    for hidden in ("Secret trigger", "Jordan Sponsor", format_date(recovery_date), "Membership"):
        assert hidden not in page
    assert "<textarea" not in page  # no free text in the contact log


def test_opening_a_mentee_is_audited_and_the_mentee_can_see_it(ctx, login):
    mentor = make_mentor(name="Morgan Mentor")
    mentee = make_mentee(mentor)
    login(mentor).get(f"/mentoring/{mentee.id}")
    views = text(login(mentee).get("/me/record-views"))
    assert "Morgan Mentor (your peer mentor)" in views and "(Student)" not in views
    assert "Your contact details" in views


def test_a_mentor_cannot_open_someone_elses_mentee(ctx, login):
    mentor = make_mentor()
    other_mentee = make_mentee(make_mentor())
    stranger = make_user("student")
    client = login(mentor)
    for person in (other_mentee, stranger):
        assert client.get(f"/mentoring/{person.id}").status_code == 404
        response = client.post(f"/mentoring/{person.id}", data=contact_form())
        assert response.status_code == 404
    assert client.get("/mentoring/999999").status_code == 404
    assert contact_count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_students_who_are_not_mentors_and_other_roles_are_refused(ctx, login):
    mentor = make_mentor()
    mentee = make_mentee(mentor)
    student = login(make_user("student"))
    assert student.get("/mentoring/").status_code == 403
    assert "it is for peer mentors" in text(student.get("/mentoring/"))
    assert student.get(f"/mentoring/{mentee.id}").status_code == 403
    for role in ("advisor", "staff"):
        client = login(make_user(role))
        assert client.get("/mentoring/").status_code == 403
        assert client.get(f"/mentoring/{mentee.id}").status_code == 403
    for role in ("student", "advisor"):
        client = login(make_user(role))
        assert client.get("/members/mentoring").status_code == 403
        assert client.get(f"/members/{mentee.id}/mentoring").status_code == 403


def test_a_mentor_whose_membership_ends_loses_access(ctx, login):
    mentor = make_mentor()
    mentee = make_mentee(mentor)
    mentor.profile.status = "alumni"
    db.session.commit()
    assert not mentoring.is_mentor(mentor)
    assert login(mentor).get(f"/mentoring/{mentee.id}").status_code == 403


def test_a_mentor_logs_a_contact(ctx, login):
    mentor = make_mentor()
    mentee = make_mentee(mentor)
    client = login(mentor)
    response = client.post(f"/mentoring/{mentee.id}", data=contact_form(), follow_redirects=True)
    page = text(response)
    assert "Logged your contact on" in page
    assert "In person" in page and "Classes and studying, Program events" in page
    contact = db.session.scalar(select(MentorContact))
    assert (contact.mentor_id, contact.mentee_id, contact.minutes) == (mentor.id, mentee.id, 45)
    assert contact.topics == "academics,events"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"contact_date": "tomorrow"}, "The contact date cannot be in the future."),
        ({"contact_date": "2024-02-30"}, "Enter a real date, for example 2026-03-14."),
        ({"contact_date": ""}, "Enter the date of the contact."),
        ({"contact_date": "old"}, "Log contacts from the past year only."),
        ({"minutes": "0"}, "Enter a whole number from 1 to 600."),
        ({"minutes": "601"}, "Enter a whole number from 1 to 600."),
        ({"minutes": "abc"}, "Enter a whole number from 1 to 600."),
        ({"minutes": "9" * 40}, "Enter a whole number from 1 to 600."),
        ({"minutes": ""}, "Enter how many minutes you spent."),
        ({"topics": ["academics", "therapy_notes"]}, "Choose topics from the list."),
        ({"topics": []}, "Choose at least one topic."),
        ({"mode": "telepathy"}, "Choose one of the listed options."),
    ],
)
def test_bad_contact_details_are_explained_and_nothing_logged(ctx, login, changes, message):
    mentor = make_mentor()
    mentee = make_mentee(mentor)
    dates = {
        "tomorrow": (local_today() + timedelta(days=1)).isoformat(),
        "old": (local_today() - timedelta(days=400)).isoformat(),
    }
    if changes.get("contact_date") in dates:
        changes = {"contact_date": dates[changes["contact_date"]]}
    response = login(mentor).post(f"/mentoring/{mentee.id}", data=contact_form(**changes))
    assert response.status_code == 200
    assert message in text(response)
    assert contact_count() == 0


def test_the_service_refuses_what_the_form_would(ctx):
    mentor = make_mentor()
    mentee = make_mentee(mentor)
    today = local_today()
    bad = [
        (today + timedelta(days=1), "phone", 30, ["check_in"]),
        (today, "phone", 0, ["check_in"]),
        (today, "pigeon", 30, ["check_in"]),
        (today, "phone", 30, []),
        (today, "phone", 30, ["diagnosis"]),
    ]
    for contact_date, mode, minutes, topics in bad:
        with pytest.raises(DomainError):
            mentoring.log_contact(mentor, mentee.id, contact_date, mode, minutes, topics, today)
    assert contact_count() == 0


# Staff read the log


def test_staff_see_the_contact_log(ctx, login):
    mentor = make_mentor(name="Morgan Mentor")
    mentee = make_mentee(mentor, name="Mia Mentee")
    make_contact(mentor, mentee, days_ago=3, minutes=20, topics=["housing"])
    make_contact(mentor, mentee, days_ago=1, minutes=50, topics=["wellbeing", "referral"])
    other_mentor = make_mentor(name="Olive Other")
    make_contact(other_mentor, make_mentee(other_mentor, name="Otto Mentee"))
    staff = login(make_user("staff"))

    overview = text(staff.get("/members/mentoring"))
    assert "Morgan Mentor" in overview and "Mia Mentee</a>: 2 contacts, last" in overview
    assert "Wellbeing and self-care, Referred to staff" in overview
    assert "3 contacts." in overview
    filtered = text(staff.get(f"/members/mentoring?mentor={mentor.id}"))
    assert "2 contacts." in filtered and "Otto Mentee" not in filtered.split("Contact log")[1]

    record = text(staff.get(f"/members/{mentee.id}/mentoring"))
    assert "Housing" in record and "Phone call" in record
    assert "Morgan Mentor" in record
    assert [c.minutes for c in mentoring.contacts_with(mentee.id).items] == [50, 20]


def test_the_contact_log_pages(ctx, login):
    mentor = make_mentor()
    mentee = make_mentee(mentor)
    for days_ago in range(27):
        make_contact(mentor, mentee, days_ago=days_ago)
    staff = login(make_user("staff"))
    assert "Page 1 of 2" in text(staff.get("/members/mentoring"))
    assert "Page 2 of 2" in text(staff.get("/members/mentoring?page=2"))
    assert staff.get("/members/mentoring?page=abc&mentor=xyz").status_code == 200


def pager_links(page: str, label: str) -> dict[str, dict[str, list[str]]]:
    """The links of the pager named `label`, by their words: each one's query arguments."""
    [nav] = re.findall(rf'<nav class="pager" aria-label="{label}">(.*?)</nav>', page, re.S)
    return {
        words: parse_qs(urlsplit(href).query)
        for href, words in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    }


AS_MENTOR, AS_MENTEE = "Pages of contacts logged as a mentor", "Pages of contacts as a mentee"


def as_mentor_and_as_mentee(page: str) -> tuple[str, str]:
    """A member's mentoring page in two: the contacts they logged, those with them."""
    return tuple(page.split("<h2>Contacts with them as a mentee</h2>", 1))


def test_staff_page_through_both_of_a_members_contact_logs(ctx, login):
    their_mentor, mentor = make_mentor(), make_mentor()
    mentoring.assign_mentor(mentor.profile, their_mentor.id)
    db.session.commit()
    add_contacts(mentor, make_mentee(mentor), range(27))  # pages of 25: 25 and 2
    add_contacts(their_mentor, mentor, range(100, 130))  # 25 and 5
    staff = login(make_user("staff"))
    path = f"/members/{mentor.id}/mentoring"

    first = text(staff.get(path))
    assert pager_links(first, AS_MENTOR) == {"Next": {"mentor_page": ["2"]}}
    assert pager_links(first, AS_MENTEE) == {"Next": {"page": ["2"]}}
    logged, had = as_mentor_and_as_mentee(first)
    assert "27 contacts." in logged and "30 contacts." in had
    assert logged.count("<tr>") == 1 + 25 and had.count("<tr>") == 1 + 25

    second = text(staff.get(f"{path}?mentor_page=2&page=2"))
    logged, had = as_mentor_and_as_mentee(second)
    assert logged.count("<tr>") == 1 + 2 and had.count("<tr>") == 1 + 5
    oldest = format_date(local_today() - timedelta(days=129))
    assert oldest in had and oldest not in first  # beyond the 50 the page used to stop at
    # Each pager turns its own list's page and keeps the other's.
    assert pager_links(second, AS_MENTOR) == {"Previous": {"mentor_page": ["1"], "page": ["2"]}}
    assert pager_links(second, AS_MENTEE) == {"Previous": {"page": ["1"], "mentor_page": ["2"]}}
    assert "Page 2 of 2" in logged and "Page 2 of 2" in had


def test_staff_still_see_what_a_former_mentor_logged(ctx, login):
    mentor = make_mentor()
    add_contacts(mentor, make_mentee(mentor), range(2))
    staff_member = make_user("staff")
    mentoring.set_peer_mentor(mentor.profile, False, staff_member)
    db.session.commit()
    staff = login(staff_member)
    page = text(staff.get(f"/members/{mentor.id}/mentoring"))
    assert "They are no longer a peer mentor; these are from when they were." in page
    logged, _had = as_mentor_and_as_mentee(page)
    assert "2 contacts." in logged

    never = make_mentee(make_mentor())  # a student who never mentored: no such section
    assert "Contacts they logged as a mentor" not in text(
        staff.get(f"/members/{never.id}/mentoring")
    )


@pytest.mark.parametrize(
    "query", ["page=abc&mentor_page=-3", "page=0&mentor_page=1.5", "page=999999&mentor_page=%C2%B2"]
)
def test_junk_page_numbers_show_a_members_first_pages(ctx, login, query):
    mentor = make_mentor()
    add_contacts(mentor, make_mentee(mentor), range(30))
    response = login(make_user("staff")).get(f"/members/{mentor.id}/mentoring?{query}")
    assert response.status_code == 200
    assert pager_links(text(response), AS_MENTOR)["Next"]["mentor_page"] == ["2"]


def test_pager_links_keep_no_url_for_options_from_the_address(ctx, login):
    mentor = make_mentor()
    add_contacts(mentor, make_mentee(mentor), range(30))
    staff = login(make_user("staff"))
    path = f"/members/{mentor.id}/mentoring?_external=1&_anchor=x&_method=POST"
    page = staff.get(path).get_data(as_text=True)
    assert f'<a href="/members/{mentor.id}/mentoring?mentor_page=2" rel="next">' in page
    overview = staff.get("/members/mentoring?_external=1&_anchor=x").get_data(as_text=True)
    assert '<a href="/members/mentoring?page=2" rel="next">' in overview


def test_a_page_past_the_end_shows_the_last_page(ctx, login):
    mentor = make_mentor()
    add_contacts(mentor, make_mentee(mentor), range(3))
    response = login(make_user("staff")).get(f"/members/{mentor.id}/mentoring?mentor_page=99999")
    assert response.status_code == 200
    logged, had = as_mentor_and_as_mentee(text(response))
    assert "3 contacts." in logged
    assert "None logged yet." in had


def test_a_members_mentoring_pages_cost_the_same_however_long_the_logs(ctx, login, count_queries):
    their_mentor, mentor = make_mentor(), make_mentor()
    mentoring.assign_mentor(mentor.profile, their_mentor.id)
    db.session.commit()
    mentee = make_mentee(mentor)
    add_contacts(mentor, mentee, range(1))
    add_contacts(their_mentor, mentor, range(1))
    staff = login(make_user("staff"))
    path = f"/members/{mentor.id}/mentoring"
    staff.get(path)  # the first opening is audited; reopenings within 10 minutes are not
    few = count_queries(staff, path)
    add_contacts(mentor, mentee, range(1, 80))
    add_contacts(their_mentor, mentor, range(1, 80))
    assert count_queries(staff, path) == few
    assert count_queries(staff, f"{path}?page=2&mentor_page=4") == few


def test_the_member_record_lists_the_newest_contacts_and_links_to_the_rest(ctx, login):
    mentor = make_mentor()
    mentee = make_mentee(mentor)
    add_contacts(mentor, mentee, range(20))
    staff = login(make_user("staff"))
    record = text(staff.get(f"/members/{mentee.id}"))
    assert "All their contacts on the mentoring page" not in record
    add_contacts(mentor, mentee, range(20, 23))
    record = text(staff.get(f"/members/{mentee.id}"))
    assert "The newest 20 of 23." in record
    assert f'<a href="/members/{mentee.id}/mentoring">All their contacts' in record


def test_mentoring_pages_cost_the_same_with_more_data(ctx, login, count_queries):
    staff_user = make_user("staff")
    client = login(staff_user)

    def add_mentors(count: int) -> None:
        for _ in range(count):
            mentor = make_mentor()
            for _ in range(2):
                mentee = make_mentee(mentor)
                make_contact(mentor, mentee)

    add_mentors(2)  # two, so every eager load on the pages already has rows to load
    mentor = db.session.scalar(select(MemberProfile).where(MemberProfile.is_peer_mentor))
    mentor_client = login(mentor.user)
    mentee_id = mentoring.mentees_of(mentor.user_id)[0].user_id
    paths = {
        client: ["/members/mentoring", f"/members/{mentor.user_id}/mentoring"],
        mentor_client: ["/mentoring/", f"/mentoring/{mentee_id}"],
    }
    for who, group in paths.items():
        for path in group:
            who.get(path)  # the first visit also writes the audit row
    few = {path: count_queries(who, path) for who, group in paths.items() for path in group}
    add_mentors(6)
    for _ in range(5):
        make_contact(mentor.user, db.session.get(MemberProfile, mentee_id).user)
        make_mentee(mentor.user)
    many = {path: count_queries(who, path) for who, group in paths.items() for path in group}
    assert many == few
