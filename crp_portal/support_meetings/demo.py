"""Demo listings for the support-meeting directory: fictional meetings, every day of the week."""

from datetime import time

from crp_portal.support_meetings.services import MeetingDetails, create_meeting

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

DEMO_MEETINGS = [
    MeetingDetails(
        name="Monday Night Big Book",
        fellowship="aa",
        weekday=MON,
        starts_at=time(19, 0),
        duration_minutes=60,
        location="Student Union, Room 214",
        notes="Open meeting; students and visitors welcome.",
    ),
    MeetingDetails(
        name="Lunchtime SMART",
        fellowship="smart",
        weekday=MON,
        starts_at=time(12, 15),
        duration_minutes=45,
        online_url="https://example.org/meet/lunchtime-smart",
        notes="Cameras optional.",
    ),
    MeetingDetails(
        name="Clean Slate NA",
        fellowship="na",
        weekday=TUE,
        starts_at=time(18, 30),
        duration_minutes=90,
        location="Grace Community Church, 410 Elm Street (side entrance)",
        notes="Wheelchair accessible. Newcomers welcome.",
    ),
    MeetingDetails(
        name="Campus Recovery Dharma",
        fellowship="dharma",
        weekday=TUE,
        starts_at=time(20, 0),
        duration_minutes=75,
        location="Wellness Center, Meditation Room",
        online_url="https://example.org/meet/campus-dharma",
        notes="Hybrid: join in the room or online. Twenty minutes of meditation first.",
    ),
    MeetingDetails(
        name="Hump Day Young People's AA",
        fellowship="aa",
        weekday=WED,
        starts_at=time(21, 0),
        duration_minutes=60,
        location="Library, Group Study Room 3",
    ),
    MeetingDetails(
        name="Secular Sobriety Circle",
        fellowship="sos",
        weekday=WED,
        starts_at=time(17, 30),
        duration_minutes=60,
        online_url="https://example.org/meet/secular-sobriety",
    ),
    MeetingDetails(
        name="All Paths Recovery Group",
        fellowship="all_recovery",
        weekday=THU,
        starts_at=time(16, 0),
        duration_minutes=60,
        location="Student Union, Room 118",
        notes="Any substance or behavior, any pathway. Coffee provided.",
    ),
    MeetingDetails(
        name="Thursday SMART Tools",
        fellowship="smart",
        weekday=THU,
        starts_at=time(19, 30),
        duration_minutes=90,
        location="Riverside Public Library, Community Room",
    ),
    MeetingDetails(
        name="Friday Early Bird",
        fellowship="aa",
        weekday=FRI,
        starts_at=time(7, 0),
        duration_minutes=60,
        online_url="https://example.org/meet/early-bird",
        notes="Short reading and sharing before class.",
    ),
    MeetingDetails(
        name="Saturday Morning Just for Today",
        fellowship="na",
        weekday=SAT,
        starts_at=time(10, 0),
        duration_minutes=60,
        location="Oak Street Recovery Clubhouse, 27 Oak Street",
    ),
    MeetingDetails(
        name="Families and Friends in Recovery",
        fellowship="other",
        weekday=SAT,
        starts_at=time(13, 0),
        duration_minutes=90,
        online_url="https://example.org/meet/families-and-friends",
        notes="For people who love someone in recovery.",
    ),
    MeetingDetails(
        name="Sunday Serenity",
        fellowship="all_recovery",
        weekday=SUN,
        starts_at=time(18, 0),
        duration_minutes=60,
        location="Interfaith Chapel, Lower Level",
        online_url="https://example.org/meet/sunday-serenity",
    ),
]


def seed_support_meetings() -> int:
    """Add the demo listings (through the service, so they obey its rules); returns how many."""
    for details in DEMO_MEETINGS:
        create_meeting(details)
    return len(DEMO_MEETINGS)
