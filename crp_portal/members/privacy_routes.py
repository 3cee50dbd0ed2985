"""A student's copy of everything the portal holds about them."""

import json

from flask import Response
from flask_login import current_user

from crp_portal.access import STUDENT, role_required
from crp_portal.members import bp, data_export
from crp_portal.timeutil import local_today


@bp.get("/me/data.json")
@role_required(STUDENT)
def my_data():
    body = json.dumps(data_export.export_data(current_user), indent=2, ensure_ascii=False)
    filename = f"my-data-{local_today().isoformat()}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
