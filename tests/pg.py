"""A throwaway PostgreSQL server for `make test` on a developer machine.

CI starts its own in `.ci/run` and sets TEST_DATABASE_URL; when that is unset and
Debian's PostgreSQL binaries are installed, the test session starts one here instead.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(candidates[-1]) if candidates else None


@dataclass
class ThrowawayPostgres:
    root: str
    bin_dir: str
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://crp@127.0.0.1:{self.port}/crp_test"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True)

    @classmethod
    def start(cls) -> "ThrowawayPostgres | None":
        bin_dir = _pg_bin()
        if bin_dir is None:
            return None
        root = tempfile.mkdtemp(prefix="crp-test-pg-")
        as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        server = cls(root, bin_dir, free_port(), as_user)
        data, sock = os.path.join(root, "data"), os.path.join(root, "sock")
        os.makedirs(sock)
        if as_user:
            shutil.chown(sock, "postgres", "postgres")
        server._run(f"{bin_dir}/initdb", "-D", data, "-U", "crp", "--auth=trust", "-E", "UTF8")
        server._run(
            f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(root, "postgres.log"), "-w",
            "-o", f"-k {sock} -p {server.port} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )  # fmt: skip
        server._run(
            f"{bin_dir}/createdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "crp",
            "crp_test",
        )
        return server

    def stop(self) -> None:
        data = os.path.join(self.root, "data")
        subprocess.run(
            [*self.as_user, f"{self.bin_dir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)
