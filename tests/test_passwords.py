"""New passwords (NIST SP 800-63B): at least 12 characters and no composition rules,
but nothing from the common-password list shipped with the app, no repeated or
sequential pattern, nothing made of the person's own name or email. Hashes are
upgraded at sign-in when the Argon2 parameters change."""

import gzip
import html
import unicodedata

import pytest

from crp_portal.auth import passwords, services
from crp_portal.auth.models import User
from crp_portal.extensions import db
from tests.factories import PASSWORD, make_user

COMMON = "That password is on a list of commonly used passwords"
PATTERN = "That password is a repeated or sequential pattern"
PERSONAL = "That password is made from your name, your email address or the program's name."
TOO_SHORT = "Use at least 12 characters. A short phrase works well."
CHANGED = "Your password is changed."
GOOD = "maple lanterns drift east"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def change_password(client, new_password, confirm=None):
    return client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": new_password,
            "confirm": confirm or new_password,
        },
        follow_redirects=True,
    )


@pytest.fixture
def kai(ctx):
    return make_user("student", email="kai.nguyen@example.edu", name="Kai Nguyen")


# The list


def test_the_common_password_list_ships_with_the_app():
    assert passwords.COMMON_PASSWORDS_FILE.name == "common-passwords.txt.gz"
    with gzip.open(passwords.COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        count = sum(1 for line in lines if line.strip())
    assert count > 19_000
    common = passwords.common_passwords()
    assert {"password", "123456", "qwerty123456", "iloveyou"} <= common
    assert all(entry == entry.lower() for entry in list(common)[:500])


# Through the form, as a person sees it


@pytest.mark.parametrize(
    "password",
    [
        "qwerty123456",  # on the list as it is
        "QWERTY123456",  # in capitals
        "Password123456",  # a listed word with digits added
        "iloveyou2024!!",
        "sunshine-sunshine",
    ],
)
def test_common_passwords_are_refused_whatever_their_case(kai, login, password):
    response = change_password(login(kai), password)
    page = text(response)
    assert COMMON in page or PATTERN in page
    assert CHANGED not in page


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaaaa", "abcabcabcabc", "123456789012", "zyxwvutsrqpo", "qwertyuiopasdf"],
)
def test_repeated_and_sequential_patterns_are_refused(kai, login, password):
    assert PATTERN in text(change_password(login(kai), password))


@pytest.mark.parametrize(
    "password",
    [
        "kainguyen2024",
        "Nguyen Kai 1999!",
        "kai.nguyen@example.edu",
        "Kai Nguyen Kai 77",
        "Collegiate Recovery Program 1",
    ],
)
def test_passwords_made_of_the_persons_name_or_email_are_refused(kai, login, password):
    assert PERSONAL in text(change_password(login(kai), password))


def test_an_invitee_cannot_use_the_name_they_type_on_the_same_form(ctx, client):
    staff = make_user("staff", is_admin=True)
    invitation = services.invite("ada.okoye@example.edu", "student", False, staff)
    db.session.commit()
    path = f"/invitations/{services.invitation_token(invitation)}"

    def accept(password):
        return client.post(
            path, data={"name": "Ada Okoye", "password": password, "confirm": password}
        )

    assert PERSONAL in text(accept("adaokoye1234"))
    assert PERSONAL in text(accept("okoye ada 2024"))
    assert COMMON in text(accept("password1234"))
    assert accept(GOOD).headers["Location"] == "/sign-in"


def test_a_reset_refuses_the_accounts_own_email_and_common_passwords(kai, client):
    path = f"/reset-password/{services.reset_token_for(kai)}"

    def reset(password):
        return client.post(path, data={"password": password, "confirm": password})

    assert PERSONAL in text(reset("kai.nguyen2024"))
    assert COMMON in text(reset("1q2w3e4r5t6y"))
    assert reset(GOOD).headers["Location"] == "/sign-in"


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",  # lowercase letters and spaces only
        "kai loves quiet sunsets",  # may mention a name, as part of a phrase
        "839201746358",  # digits only, not a pattern
        "ünïcødé pässphrase ✓",  # any script, any symbol
        "x" * 11 + "y",  # exactly twelve characters
    ],
)
def test_no_composition_rules_any_long_unguessable_password_is_taken(kai, login, password):
    page = text(change_password(login(kai), password))
    assert CHANGED in page


def test_a_short_password_gets_only_the_length_message(kai, login):
    page = text(change_password(login(kai), "password1"))
    assert TOO_SHORT in page
    assert COMMON not in page


def test_the_longest_password_is_256_characters(kai, login):
    assert "Use at most 256 characters." in text(change_password(login(kai), "word " * 52))
    assert CHANGED in text(change_password(login(kai), ("long word " * 26)[:256]))


def test_password_problem_reads_plainly_without_a_form(ctx):
    assert passwords.password_problem(GOOD) is None
    assert passwords.password_problem("monkeymonkey12") == passwords.PATTERN
    assert passwords.password_problem("ada loves the sea", ["Ada Okoye"]) is None
    assert passwords.password_problem("ada okoye 2024 ok", ["Ada Okoye"]) == passwords.PERSONAL


# Hashing


def test_the_same_password_typed_in_another_unicode_form_signs_in(kai, client):
    composed = "café crème à emporter"
    services.set_password(kai, composed)
    db.session.commit()
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    response = client.post("/sign-in", data={"email": kai.email, "password": decomposed})
    assert response.headers["Location"] == "/"


def test_a_hash_with_old_memory_settings_is_replaced_at_sign_in(app, kai, client):
    old_hash = kai.password_hash
    assert "m=1024" in old_hash
    app.config["CRP_ARGON2_MEMORY_KIB"] = 2048
    response = client.post("/sign-in", data={"email": kai.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    db.session.expire_all()
    new_hash = db.session.get(User, kai.id).password_hash
    assert new_hash != old_hash and "m=2048" in new_hash
    assert passwords.verify_password(new_hash, PASSWORD)


def test_a_failed_sign_in_leaves_the_hash_alone(app, kai, client):
    old_hash = kai.password_hash
    app.config["CRP_ARGON2_MEMORY_KIB"] = 2048
    client.post("/sign-in", data={"email": kai.email, "password": "not the right one"})
    db.session.expire_all()
    assert db.session.get(User, kai.id).password_hash == old_hash
