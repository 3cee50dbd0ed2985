"""Stopping the identity providers the tests start."""

import subprocess


def stop(process: subprocess.Popen | None, grace_seconds: float) -> None:
    """Ask a running process to end, and kill it if it has not within `grace_seconds`."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
