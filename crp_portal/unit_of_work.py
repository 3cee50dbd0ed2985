"""How views save: one unit of work per change, and the few reads that write.

`unit_of_work` is the one way a view commits. `audited_read`, `refreshing_read` and
`marking_read` mark the views whose reading writes, and say why. `lock` and `flush_or_conflict` are for
services: they turn waiting writers and the database's refusals into domain errors a
person understands.
"""

from functools import wraps

from flask import flash
from sqlalchemy.exc import IntegrityError

from crp_portal.errors import Conflict, DomainError, Forbidden, NotFound
from crp_portal.extensions import db


class UnitOfWork:
    """One change a view asks for, saved whole or not at all; see `unit_of_work`."""

    def __init__(self, form=None, field=None):
        self.form = form
        self.field = field  # a field's name, or error -> name or None; may change between steps
        self.error: DomainError | None = None
        self.saved = False

    @property
    def status(self) -> int:
        """The status for the page shown again: 200 unless a rule said no; then 409 when
        the change clashed with what is saved (`Conflict`), else 422."""
        if self.error is None:
            return 200
        return 409 if isinstance(self.error, Conflict) else 422

    def __enter__(self) -> "UnitOfWork":
        self.error, self.saved = None, False
        return self

    def __exit__(self, kind, error, _traceback) -> bool:
        if kind is None:
            db.session.commit()
            self.saved = True
            return False
        if not isinstance(error, DomainError):
            return False  # the error pages roll back, and cope with a lost connection
        db.session.rollback()
        if self.form is None or isinstance(error, NotFound | Forbidden):
            return False  # the error page answers with the error's own status
        self.error = error
        self._show(error)
        return True

    def _show(self, error: DomainError) -> None:
        name = self.field(error) if callable(self.field) else self.field
        messages = getattr(error, "problems", None) or [error.message]
        if name is None:
            for message in messages:
                flash(message, "error")
            return
        field = self.form[name]
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.extend(messages)


def unit_of_work(form=None, field=None) -> UnitOfWork:
    """The one way a view saves: run the change in a `with` block, commit at its end.

    A rule the change breaks (a `DomainError`) rolls everything back, so nothing is half
    saved. With a form, the block's error is swallowed and its reason goes beside
    `field` (a name, or a function from the error to a name), or at the top of the page
    when the name is None (a refusal about the whole record, whose form may be gone once
    someone else's change is saved); an error with a `problems` list shows each one. The
    view shows the page again, with the person's input, answering `work.status`: 422, or
    409 for a clash with what is saved. Without a form, and always for NotFound and
    Forbidden, the error goes on to the error pages (400, 403, 404, 409). Any other
    exception goes on too; the error pages roll it back.

        work = unit_of_work(form, "name")
        if form.validate_on_submit():
            with work:
                house = services.save_house(...)
            if work.saved:
                return redirect(...)
        return render_template(...), work.status

    A view with no form to show again writes `with unit_of_work(): services.cancel(...)`.
    """
    return UnitOfWork(form, field)


def _committed_after(view):
    @wraps(view)
    def answer(*args, **kwargs):
        response = view(*args, **kwargs)
        db.session.commit()
        return response

    return answer


def audited_read(view):
    """The view records who opened whose data, so reading it writes, even on a GET.

    Privacy rules require the audit trail to show every opening of a person's record
    (`audit.record_view`) and every export that leaves the program
    (`audit.record_export`). The view's services write those rows while it reads; this
    commits them once the answer is built (after rendering, so the page uses what it
    loaded instead of reloading it after the commit). A view that fails commits nothing:
    the error pages roll back. Nothing else may be pending here: a change goes through
    `unit_of_work`, which has committed or rolled back by now.
    """
    return _committed_after(view)


def refreshing_read(view):
    """The view brings derived tables up to date before it reads them, and keeps that.

    The dashboard applies the changes marked since the last refresh to its rollups
    (`dashboard.rollups.refresh`) before it counts; committing the refresh spares the
    next reader from doing it again. What it writes is derived from data other requests
    already committed, never from this request's input.
    """
    return _committed_after(view)


def marking_read(view):
    """The view notes what the person has now seen, so their home stops listing it.

    A student's home lists news (a summary waiting, a waitlist place that changed) until
    they open the page that shows it (`advising.summaries`, `events.waitlist_news`); that
    page marks it seen with a conditional UPDATE of the person's own row, committed once
    the answer is built. Nothing else may be pending here, as for `audited_read`.
    """
    return _committed_after(view)


def lock(instance, **for_update):
    """Lock the instance's row and re-read it, so the caller checks what the change it
    waited for committed; changes already made to it are flushed first, not lost.

    `SELECT … FOR UPDATE` by default; `key_share=True` gives `FOR NO KEY UPDATE` (foreign
    keys pointing at the row still pass), `read=True` gives `FOR SHARE`. SQLite has no
    row locks: there this read takes the database's write lock (`crp_portal.database`),
    so this transaction is the only writer from here on.
    """
    db.session.flush()
    db.session.refresh(instance, with_for_update=for_update or True)
    return instance


def flush_or_conflict(message: str) -> None:
    """Flush pending changes in a savepoint; a constraint violation becomes a Conflict."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(message) from error
