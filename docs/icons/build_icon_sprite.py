"""Build static/icons/sprite.svg from Lucide's SVG files (ISC licence).

The portal ships only the icons it uses, as one sprite of <symbol>s that the `icon(name)`
macro (templates/_icons.html) points at with <use href="…#name">. To add an icon:

    cd "$(mktemp -d)" && npm pack lucide-static@1.62.0 && tar xzf lucide-static-*.tgz
    python docs/icons/build_icon_sprite.py "$PWD/package"      # from the repository root

after adding its name (see https://lucide.dev/icons) to ICONS below. The script copies the
package's LICENSE next to the sprite and records the version it came from.
"""

import json
import re
import shutil
import sys
from pathlib import Path

ICONS = [
    "calendar-plus",  # add to a calendar, .ics downloads
    "circle-check",  # check in
    "download",  # download a file
    "mail",  # email
    "printer",  # print
    "search",  # search, filter
    "triangle-alert",  # warnings
]

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"


def symbol(name: str, svg: str) -> str:
    """One icon's drawing as a <symbol>; the stroke styling comes from the .icon class."""
    view_box = re.search(r'viewBox="([^"]+)"', svg)
    body = svg[svg.index(">", svg.index("<svg")) + 1 : svg.rindex("</svg>")]
    shapes = " ".join(line.strip() for line in body.splitlines() if line.strip())
    return f'<symbol id="{name}" viewBox="{view_box.group(1) if view_box else "0 0 24 24"}">{shapes}</symbol>'


def main(package: Path) -> None:
    version = json.loads((package / "package.json").read_text())["version"]
    symbols = [symbol(name, (package / "icons" / f"{name}.svg").read_text()) for name in ICONS]
    OUT.mkdir(exist_ok=True)
    (OUT / "sprite.svg").write_text(
        f"<!-- Lucide {version} (https://lucide.dev), ISC licence: see LICENSE-lucide.txt."
        " Made by docs/icons/build_icon_sprite.py. -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg">\n' + "\n".join(symbols) + "\n</svg>\n"
    )
    shutil.copyfile(package / "LICENSE", OUT / "LICENSE-lucide.txt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
