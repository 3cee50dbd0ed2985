"""Independent readers of what the portal writes: software nobody here wrote.

`make test` installs them into tests/js from its lockfile (`npm ci`); `.ci/run` installs
Node and a Java runtime first. Where one is missing its tests skip locally and fail under
CI=true, like every other service the suite needs.
"""

import shutil
from pathlib import Path

from tests.conftest import missing_service

JS_DIR = Path(__file__).with_name("js")
NODE_MODULES = JS_DIR / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
ICAL_JS = NODE_MODULES / "ical.js" / "dist" / "ical.js"


def node() -> str:
    """The Node executable, with ical.js installed beside the tests."""
    found = shutil.which("node") or shutil.which("nodejs")
    if found is None:
        missing_service("Node.js is not installed (it runs ical.js)")
    if not ICAL_JS.exists():
        missing_service("ical.js is not installed: run `npm ci --prefix tests/js`")
    return found


def java_and_vnu() -> tuple[str, Path]:
    """The Java runtime and the Nu Html Checker's jar."""
    java = shutil.which("java")
    if java is None:
        missing_service("Java is not installed (it runs the Nu Html Checker)")
    if not VNU_JAR.exists():
        missing_service("vnu.jar is not installed: run `npm ci --prefix tests/js`")
    return java, VNU_JAR
