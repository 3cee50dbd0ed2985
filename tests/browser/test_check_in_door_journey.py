"""Check-in at the door in Chromium (issue #21): staff open the kiosk screen; a student's
phone reads its QR code (decoded here from a screenshot with zxing-cpp, a real QR decoder),
opens that address, signs in and checks in with one tap; staff see the student present."""

import io
import re

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from crp_portal.events import rsvp
from crp_portal.events.models import Event
from crp_portal.extensions import db
from crp_portal.timeutil import utcnow
from tests.browser.axe import assert_accessible
from tests.browser.test_events_journey import arrange_event, starting_in_five_minutes
from tests.browser.test_journeys import sign_in
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def decoded_qr(png: bytes) -> list[str]:
    """What a QR decoder reads in a screenshot."""
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def kiosk_reading(page) -> tuple[str, str]:
    """The code the kiosk shows and the address its QR code holds, read from one screen
    (read again if the screen reloaded for a new code in between)."""
    for _attempt in range(3):
        before = page.locator(".kiosk-code").inner_text().strip()
        [url] = decoded_qr(page.screenshot())
        if page.locator(".kiosk-code").inner_text().strip() == before:
            return before, url
    raise AssertionError("the kiosk kept changing its code")


def test_a_student_scans_the_kiosk_and_checks_in_with_one_tap(app, browser, live_server, page):
    with app.app_context():
        staff = make_user("staff", scopes=["events"], email="door.staff@example.edu")
        student = make_user("student", email="door.student@example.edu", name="Alex Door")
        staff_email, student_email = staff.email, student.email
        db.session.remove()
    event = arrange_event(app, capacity=10, **starting_in_five_minutes(app))
    with app.test_request_context():
        rsvp.rsvp(event.id, db.session.get(type(student), student.id), utcnow())
        db.session.commit()
        db.session.remove()

    # Staff put the kiosk screen on the projector.
    sign_in(page, staff_email, PASSWORD)
    page.goto(f"/events/{event.id}/attendance")
    page.get_by_role("link", name="Open the kiosk screen").click()
    expect(page).to_have_url(re.compile(rf"/events/{event.id}/kiosk$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(event.public_title)
    expect(page.locator("body")).not_to_contain_text(event.title)
    expect(page.locator("body")).not_to_contain_text("Alex")
    assert_accessible(page)
    code, url = kiosk_reading(page)
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    assert url == f"{live_server.url}/events/{event.id}/check-in?code={code}"

    # A student's phone opens what the QR code holds: sign in, come back, one tap.
    phone = browser.new_context(
        base_url=live_server.url,
        bypass_csp=True,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    phone.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        mobile = phone.new_page()
        mobile.goto(url)
        expect(mobile).to_have_url(re.compile(r"/sign-in\?next="))
        mobile.get_by_label("Email address", exact=True).fill(student_email)
        mobile.get_by_label("Password", exact=True).fill(PASSWORD)
        mobile.get_by_role("button", name="Sign in", exact=True).tap()
        expect(mobile).to_have_url(url)
        expect(mobile.get_by_label("Check-in code", exact=True)).to_have_value(code)
        assert_accessible(mobile)
        mobile.get_by_role("button", name="Check in", exact=True).tap()
        expect(mobile.get_by_text("You're checked in. Welcome!")).to_be_visible()
        assert_accessible(mobile)
    finally:
        phone.close()

    # Back at the desk, staff see the student present.
    page.goto(f"/events/{event.id}/attendance")
    expect(page.get_by_role("checkbox", name="Alex Door")).to_be_checked()
    expect(page.get_by_text("1 present so far.", exact=False)).to_be_visible()
    with app.app_context():
        assert db.session.get(Event, event.id).checkin_secret not in page.content()
        db.session.remove()
