"""Admins search the audit trail: record views, admin actions and exports."""

from flask import render_template, request

from crp_portal.access import admin_required
from crp_portal.audit import bp
from crp_portal.audit.forms import AuditSearchForm
from crp_portal.audit.search import AuditFilter, audit_rows, search_audit
from crp_portal.search import page_number


@bp.get("/admin/audit")
@admin_required
def audit_log():
    form = AuditSearchForm(request.args)
    if request.args and not form.validate():
        return render_template("audit/log.html", form=form, page=None)
    filters = AuditFilter(
        who=(form.who.data or "").strip(),
        whose=(form.whose.data or "").strip(),
        what=(form.what.data or "").strip(),
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    page = search_audit(filters, page_number(request.args))
    return render_template("audit/log.html", form=form, page=page, rows=audit_rows(page.items))
