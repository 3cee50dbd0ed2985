"""What gunicorn serves: `gunicorn wsgi:app` (settings in gunicorn.conf.py)."""

from crp_portal import create_app

app = create_app()
