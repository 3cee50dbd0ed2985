"""One app per settings in each test process, handed from test to test.

Building an app for every test threw away more than the 30 ms `create_app` takes: each
new engine starts with an empty compiled-statement cache, so every test compiled the same
SQL again, and Jinja and Werkzeug rebuilt what they keep per app. A test now gets an app
made earlier with the same settings, put back as it was made:

- its config and `app.extensions` are restored from copies taken when it was built;
- Flask-Limiter's limiter is one object that the last `init_app` configured, so it is
  set back to what this app's `init_app` made of it, and its counters are emptied;
- its engine's connections are closed after each test (as before), the engine kept.

A test that changes what an app is made of (adds a route, a hook, a Jinja global) makes
that app unfit to share: it is dropped, and the next test with those settings builds one.
Such a test is marked `fresh_app`, so it is given a new app in the first place.
"""

import copy
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask

from crp_portal import create_app
from crp_portal.extensions import db, limiter

KEPT = 8  # settings a process uses over and over; single-use apps fall out of the cache


def _setup_of(app: Flask) -> tuple:
    """What an app is made of, as far as a test could change it by accident."""
    hooks = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
        app.url_value_preprocessors,
        app.url_default_functions,
        app.template_context_processors,
    )
    return (
        len(list(app.url_map.iter_rules())),
        tuple(app.view_functions.items()),
        tuple(tuple((key, len(funcs)) for key, funcs in hook.items()) for hook in hooks),
        len(app.teardown_appcontext_funcs),
        _error_handlers(app),
        tuple(app.blueprints),
        tuple(app.jinja_env.globals),
        tuple(app.jinja_env.filters),
        tuple(app.jinja_env.tests),
    )


def _error_handlers(app: Flask) -> tuple:
    """Flask's handler lookup adds empty entries to its nested defaultdicts: skip those."""
    return tuple(
        (blueprint, code, tuple(handlers.items()))
        for blueprint, codes in app.error_handler_spec.items()
        for code, handlers in codes.items()
        if handlers
    )


@dataclass
class Made:
    app: Flask
    config: dict
    extensions: dict
    limiter_state: dict
    setup: tuple

    @classmethod
    def build(cls, settings: dict) -> "Made":
        app = create_app("testing", settings)
        return cls(
            app,
            copy.deepcopy(dict(app.config)),
            dict(app.extensions),
            dict(vars(limiter)),
            _setup_of(app),
        )

    def lend(self) -> Flask:
        vars(limiter).update(self.limiter_state)
        limiter.reset()
        return self.app

    def put_back(self) -> bool:
        """As it was made, if it can be; False if the test changed what it is made of."""
        if _setup_of(self.app) != self.setup:
            return False
        self.app.config.clear()
        self.app.config.update(copy.deepcopy(self.config))
        self.app.extensions.clear()
        self.app.extensions.update(self.extensions)
        return True

    def close(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


class Apps:
    def __init__(self):
        self.kept: OrderedDict[str, Made] = OrderedDict()

    def borrow(self, settings: dict, fresh: bool = False) -> tuple[str, Flask]:
        """An app with these settings; `fresh`: one of its own, for a test that adds
        routes or hooks (Flask refuses those once an app has served a request)."""
        key = repr(sorted(settings.items()))
        if fresh and key in self.kept:
            self.kept.pop(key).close()
        made = self.kept.pop(key, None) or Made.build(settings)
        self.kept[key] = made
        while len(self.kept) > KEPT:
            _, oldest = self.kept.popitem(last=False)
            oldest.close()
        return key, made.lend()

    def give_back(self, key: str) -> None:
        made = self.kept.get(key)
        if made is not None and not made.put_back():
            del self.kept[key]
            made.close()


APPS = Apps()
