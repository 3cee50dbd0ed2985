"""What this test run has already checked in the browser, by page markup.

A journey visits the same pages as other journeys and as its own run on the other
database. axe-core and the focus-ring walk read only the page's markup, its style sheets
and the viewport, so markup already checked at this viewport gives the same answer: it
is checked once per run. Per-request values (CSP nonces, CSRF tokens) are left out of the
fingerprint; anything else that differs is a different page, checked afresh. pytest-xdist
workers share what they have checked through a folder named for the run.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

FINGERPRINT = """() => {
  const copy = document.documentElement.cloneNode(true);
  copy.querySelectorAll('[nonce]').forEach((e) => e.removeAttribute('nonce'));
  copy.querySelectorAll('input[name=csrf_token]').forEach((e) => e.removeAttribute('value'));
  copy.querySelectorAll('script:not([src])').forEach((e) => e.remove());
  return `${innerWidth}x${innerHeight} ${matchMedia('print').matches} ${copy.outerHTML}`;
}"""


class CheckedPages:
    def __init__(self):
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
        self.folder = Path(tempfile.gettempdir(), f"crp-checked-pages-{run}") if run else None
        self.results: dict[str, object] = {}

    @staticmethod
    def key(page, check: str) -> str:
        markup = page.evaluate(FINGERPRINT)
        return hashlib.sha256(f"{check}\n{markup}".encode()).hexdigest()

    def get(self, key: str):
        """The stored result of a check that passed on this markup, or None."""
        if key in self.results:
            return self.results[key]
        if self.folder is not None and (self.folder / key).exists():
            self.results[key] = json.loads((self.folder / key).read_text())
            return self.results[key]
        return None

    def remember(self, key: str, result) -> None:
        self.results[key] = result
        if self.folder is not None:
            self.folder.mkdir(exist_ok=True)
            partial = self.folder / f"{key}.{os.getpid()}"
            partial.write_text(json.dumps(result))
            partial.replace(self.folder / key)


CHECKED = CheckedPages()
