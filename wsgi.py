"""What gunicorn serves: `gunicorn wsgi:app` (settings in gunicorn.conf.py).

A server runs production settings unless `CRP_CONFIG` says otherwise, so a deployment that
forgot to choose gets the checks (a real key, a real database, trusted hosts) rather than
the development key, which is public.

Once the app is built, everything it made (the mappers, the URL map, the Jinja
environment) lives as long as the worker, so it is moved out of the garbage collector's
sight (`gc.freeze`): otherwise every full collection walks it again, which costs a busy
page about a twentieth of its time.
"""

import gc
import os

from sqlalchemy.orm import configure_mappers

from crp_portal import create_app

app = create_app(os.environ.get("CRP_CONFIG", "production"))
configure_mappers()
gc.freeze()
