"""Rules the database keeps, under real parallel requests."""

import threading

from sqlalchemy import func, select

from crp_portal.auth.models import Invitation
from crp_portal.extensions import db
from tests.factories import make_user


def run_together(*calls):
    """Start the calls at the same moment on their own threads; return their results."""
    db.session.commit()
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_admins_inviting_one_address_at_once_make_one_invitation(ctx, login):
    first, second = make_user("staff", is_admin=True), make_user("staff", is_admin=True)
    clients = [login(first), login(second)]

    def invite(client):
        return lambda: client.post(
            "/admin/invitations", data={"email": "new@example.edu", "role": "student"}
        )

    responses = run_together(invite(clients[0]), invite(clients[1]))
    assert sorted(r.status_code for r in responses) == [302, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert b"already has a pending invitation" in refused.data
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1
