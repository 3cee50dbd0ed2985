"""The yardstick for bench.load: a bare Flask app, one route answering a short text.

bench.load serves it with the same gunicorn command as the portal (`bench.bare:app`) and
drives it with the same wrk settings in the same run, then reports every target's
requests/s as a share of this route's: what each page costs on top of Flask and gunicorn
themselves, a figure that changes less between machines than raw requests/s.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
