"""README's screenshots come from `make screenshots` (docs/screenshots/take.py), which must
keep working as pages change: here it draws a student's home from a fresh demo."""

import importlib.util
import struct
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "take.py"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_script_draws_a_students_home_on_a_desktop_and_a_phone(browser, tmp_path):
    spec = importlib.util.spec_from_file_location("take_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    written = script.take(tmp_path, {"student-home"}, browser)

    assert sorted(path.name for path in written) == [
        "student-home-desktop.png",
        "student-home-phone.png",
    ]
    assert png_size(tmp_path / "student-home-desktop.png") == (1280, 800)
    assert png_size(tmp_path / "student-home-phone.png") == (390, 844)
