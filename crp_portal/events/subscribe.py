"""One-tap ways to subscribe to the private calendar feed (issue #18).

Every way carries the feed's secret address: a webcal:// link for the device's own
calendar app, links that hand the address to Google Calendar or Outlook on the web, and
a QR code to carry it to a phone. The calendar is named with the neutral public name,
never the program's: it is listed beside family calendars.
"""

from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from markupsafe import Markup

from crp_portal.qr import qr_svg

GOOGLE_ADD = "https://calendar.google.com/calendar/r"
OUTLOOK_ADD = "https://outlook.live.com/calendar/0/addfromweb"
QR_LABEL = "QR code of your private calendar address"


@dataclass(frozen=True)
class Subscription:
    feed_url: str
    webcal_url: str
    google_url: str
    outlook_url: str
    qr_svg: Markup


def webcal_url(feed_url: str) -> str:
    """The feed's address with the webcal scheme, which calendar apps open as a subscription."""
    return "webcal://" + feed_url.removeprefix(f"{urlsplit(feed_url).scheme}://")


def subscription(feed_url: str, public_name: str) -> Subscription:
    webcal = webcal_url(feed_url)
    return Subscription(
        feed_url=feed_url,
        webcal_url=webcal,
        google_url=f"{GOOGLE_ADD}?{urlencode({'cid': webcal}, quote_via=quote)}",
        outlook_url=f"{OUTLOOK_ADD}?{urlencode({'url': feed_url, 'name': public_name}, quote_via=quote)}",
        qr_svg=qr_svg(feed_url, QR_LABEL),
    )
