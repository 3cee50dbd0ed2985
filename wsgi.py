"""What gunicorn serves: `gunicorn wsgi:app` (settings in gunicorn.conf.py).

A server runs production settings unless `CRP_CONFIG` says otherwise, so a deployment that
forgot to choose gets the checks (a real key, a real database, trusted hosts) rather than
the development key, which is public.
"""

import os

from crp_portal import create_app

app = create_app(os.environ.get("CRP_CONFIG", "production"))
