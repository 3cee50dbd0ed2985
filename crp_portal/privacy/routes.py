"""A student's copy of everything the portal holds about them, and who opened their records."""

import json

from flask import Response, render_template, request
from flask_login import current_user

from crp_portal.access import STUDENT, role_required
from crp_portal.audit.search import access_log_page
from crp_portal.privacy import bp, export
from crp_portal.search import page_number
from crp_portal.timeutil import local_today


@bp.get("/me/data.json")
@role_required(STUDENT)
def my_data():
    body = json.dumps(export.export_data(current_user), indent=2, ensure_ascii=False)
    filename = f"my-data-{local_today().isoformat()}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/me/record-views")
@role_required(STUDENT)
def record_views():
    page, rows = access_log_page(current_user.id, page_number(request.args))
    return render_template("privacy/record_views.html", entries=rows, page=page)
