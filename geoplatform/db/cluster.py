"""The embedded default database: a project-local PostgreSQL cluster under `$GEOPLATFORM_HOME`.

`make demo` and the test suite use it so that a fresh machine needs nothing but the
distribution's PostgreSQL and PostGIS packages. The cluster binds to 127.0.0.1 only, on a free
port that is remembered in `cluster.json` next to a generated password. PostgreSQL refuses to run
as root, so as root the server binaries run as the `postgres` system user.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from geoplatform.errors import ClusterError, DatabaseUnavailable, PostgisMissing

SUPERUSER = "geoplatform"
STATE_FILE = "cluster.json"
SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "100",
    "shared_buffers": "'512MB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'256MB'",
    "jit": "off",
    "timezone": "'UTC'",
    "logging_collector": "off",
}
# A throwaway cluster (tests, benchmarks) trades durability for speed: it is deleted anyway.
EPHEMERAL_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class ClusterState(enum.Enum):
    """Where the project-local cluster stands."""

    MISSING = "missing"
    STOPPED = "stopped"
    RUNNING = "running"


@dataclass(frozen=True)
class PgBinaries:
    """The PostgreSQL server binaries found on this machine."""

    bindir: Path
    major_version: int
    sharedir: Path

    def tool(self, name: str) -> str:
        return str(self.bindir / name)

    @property
    def has_postgis(self) -> bool:
        return (self.sharedir / "extension" / "postgis.control").exists()

    @property
    def install_hint(self) -> str:
        return f"apt-get install -y postgresql-{self.major_version}-postgis-3"


@dataclass
class ClusterRecord:
    """What `cluster.json` remembers between commands."""

    data_dir: str
    port: int
    password: str
    major_version: int
    database: str


def find_pg_binaries(explicit_bindir: Path | None = None) -> PgBinaries:
    """Locate initdb/pg_ctl/postgres: an explicit dir, then pg_config, then /usr/lib/postgresql."""
    if explicit_bindir is not None:
        if (explicit_bindir / "initdb").exists() and (explicit_bindir / "pg_ctl").exists():
            return _describe_binaries(explicit_bindir)
        raise PostgisMissing(
            f"PostgreSQL server binaries not found in GEOPLATFORM_PG_BINDIR={explicit_bindir} "
            "(no initdb/pg_ctl there)"
        )
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout
            candidates.append(Path(out.strip()))
    versioned = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: _major_from_text(p.parent.name),
        reverse=True,
    )
    candidates.extend(versioned)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return _describe_binaries(bindir)
    raise PostgisMissing(
        "PostgreSQL server binaries not found (no initdb/pg_ctl on pg_config's bindir or under "
        "/usr/lib/postgresql); install them with: apt-get install -y postgresql "
        "postgresql-postgis, or set GEOPLATFORM_DATABASE_URL to an existing PostGIS"
    )


def _major_from_text(text: str) -> int:
    match = re.search(r"(\d+)", text)
    return int(match.group(1)) if match else 0


def _describe_binaries(bindir: Path) -> PgBinaries:
    version_text = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False
    ).stdout
    major = _major_from_text(version_text) or _major_from_text(bindir.parent.name)
    sharedir = Path(f"/usr/share/postgresql/{major}")
    local_pg_config = bindir / "pg_config"
    if local_pg_config.exists():
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            sharedir = Path(
                subprocess.run(
                    [str(local_pg_config), "--sharedir"], capture_output=True, text=True, check=True
                ).stdout.strip()
            )
    return PgBinaries(bindir=bindir, major_version=major, sharedir=sharedir)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether PostgreSQL could listen on `port`: it binds with SO_REUSEADDR, so connections
    left in TIME_WAIT by a stopped server do not count as taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class LocalCluster:
    """A PostgreSQL cluster owned by this project, living under `home`."""

    def __init__(
        self,
        home: Path,
        *,
        database: str = "geoplatform",
        pg_bindir: Path | None = None,
        ephemeral: bool = False,
    ) -> None:
        self.home = home.expanduser().resolve()
        self.database = database
        self.pg_bindir = pg_bindir
        self.ephemeral = ephemeral
        self._binaries: PgBinaries | None = None

    # -- where things live -------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.home / STATE_FILE

    @property
    def binaries(self) -> PgBinaries:
        if self._binaries is None:
            self._binaries = find_pg_binaries(self.pg_bindir)
        return self._binaries

    def record(self) -> ClusterRecord | None:
        """The remembered cluster, or None when none was ever created here."""
        try:
            raw = json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ClusterError(f"{self.state_path} is unreadable ({exc}); remove it") from exc
        return ClusterRecord(**raw)

    def _default_data_dir(self) -> Path:
        """`home/pgdata`, unless the server's user cannot reach it (root with a private home)."""
        preferred = self.home / "pgdata"
        if not _running_as_root() or _user_can_traverse("postgres", self.home):
            return preferred
        digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"geoplatform-{digest}" / "pgdata"

    # -- state -------------------------------------------------------------------------
    def state(self) -> ClusterState:
        rec = self.record()
        if rec is None or not (Path(rec.data_dir) / "PG_VERSION").exists():
            return ClusterState.MISSING
        result = self._run(["pg_ctl", "-D", rec.data_dir, "status"], check=False)
        return ClusterState.RUNNING if result.returncode == 0 else ClusterState.STOPPED

    def url(self, *, driver: str = "postgresql") -> str:
        """The connection URL of the running cluster (its password included)."""
        rec = self.record()
        if rec is None:
            raise DatabaseUnavailable(
                f"no local cluster under {self.home}: run `geoplatform db up` "
                "or set GEOPLATFORM_DATABASE_URL"
            )
        return f"{driver}://{SUPERUSER}:{rec.password}@127.0.0.1:{rec.port}/{rec.database}"

    # -- lifecycle ---------------------------------------------------------------------
    def up(self) -> list[str]:
        """Create (if missing) and start the cluster and its database; return what was done."""
        done: list[str] = []
        with self._lock():
            if not self.binaries.has_postgis:
                raise PostgisMissing(
                    f"PostGIS is not installed for PostgreSQL {self.binaries.major_version}; "
                    f"install it with: {self.binaries.install_hint}"
                )
            state = self.state()
            if state is ClusterState.MISSING:
                self._init()
                done.append(f"created cluster in {self.record_or_fail().data_dir}")
                state = ClusterState.STOPPED
            if state is ClusterState.STOPPED:
                port = self._start()
                done.append(f"started PostgreSQL {self.binaries.major_version} on 127.0.0.1:{port}")
            else:
                done.append(f"reused running cluster on 127.0.0.1:{self.record_or_fail().port}")
            if self._ensure_database():
                done.append(f"created database {self.database}")
        return done

    def recreate_database(self) -> None:
        """Drop the cluster's database (disconnecting its sessions) and create it empty."""
        import psycopg

        rec = self.record_or_fail()
        with psycopg.connect(
            host="127.0.0.1",
            port=rec.port,
            user=SUPERUSER,
            password=rec.password,
            dbname="postgres",
            connect_timeout=10,
            autocommit=True,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{rec.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{rec.database}"')

    def down(self) -> bool:
        """Stop the cluster; False when it was not running."""
        with self._lock():
            if self.state() is not ClusterState.RUNNING:
                return False
            rec = self.record_or_fail()
            self._run(["pg_ctl", "-D", rec.data_dir, "-m", "fast", "-w", "stop"])
            return True

    def destroy(self) -> None:
        """Stop the cluster and delete its files (used for throwaway clusters)."""
        with contextlib.suppress(ClusterError):
            self.down()
        rec = self.record()
        if rec is not None:
            shutil.rmtree(rec.data_dir, ignore_errors=True)
            if not Path(rec.data_dir).is_relative_to(self.home):
                shutil.rmtree(Path(rec.data_dir).parent, ignore_errors=True)
        self.state_path.unlink(missing_ok=True)

    def record_or_fail(self) -> ClusterRecord:
        rec = self.record()
        if rec is None:
            raise ClusterError(f"no local cluster under {self.home}")
        return rec

    # -- internals ---------------------------------------------------------------------
    def _init(self) -> None:
        data_dir = self._default_data_dir()
        if data_dir.exists() and any(data_dir.iterdir()):
            shutil.rmtree(data_dir)  # a half-made cluster from an interrupted init
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        password = secrets.token_urlsafe(18)
        pwfile = data_dir.parent / ".pwfile"
        pwfile.write_text(password + "\n")
        os.chmod(pwfile, 0o600)
        self._give_to_server_user(data_dir, pwfile)
        try:
            self._run(
                [
                    "initdb",
                    "-D",
                    str(data_dir),
                    "--username",
                    SUPERUSER,
                    "--pwfile",
                    str(pwfile),
                    "--auth",
                    "scram-sha-256",
                    "--encoding",
                    "UTF8",
                    "--no-locale",
                    "--no-instructions",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        settings = dict(SERVER_SETTINGS)
        if self.ephemeral:
            settings.update(EPHEMERAL_SETTINGS)
        conf = "\n".join(f"{key} = {value}" for key, value in settings.items())
        with (data_dir / "postgresql.auto.conf").open("a") as fh:
            fh.write(f"\n# geoplatform embedded cluster\n{conf}\n")
        record = ClusterRecord(
            data_dir=str(data_dir),
            port=free_port(),
            password=password,
            major_version=self.binaries.major_version,
            database=self.database,
        )
        self._write_record(record)

    def _start(self) -> int:
        rec = self.record_or_fail()
        if not port_is_free(rec.port):
            rec.port = free_port()
            self._write_record(rec)
        logfile = Path(rec.data_dir).parent / "postgresql.log"
        if _running_as_root():
            logfile.touch()
            self._give_to_server_user(logfile)
        result = self._run(
            [
                "pg_ctl",
                "-D",
                rec.data_dir,
                "-l",
                str(logfile),
                "-o",
                f"-p {rec.port}",
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=False,
        )
        if result.returncode != 0:
            tail = _tail(logfile, 5)
            raise ClusterError(f"PostgreSQL did not start on port {rec.port}: {tail}")
        return rec.port

    def _ensure_database(self) -> bool:
        import psycopg  # the driver is a hard dependency; imported here to keep the CLI start fast

        rec = self.record_or_fail()
        params = {
            "host": "127.0.0.1",
            "port": rec.port,
            "user": SUPERUSER,
            "password": rec.password,
            "dbname": "postgres",
            "connect_timeout": 10,
            "autocommit": True,
        }
        with psycopg.connect(**params) as conn:  # type: ignore[arg-type]
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (rec.database,)
            ).fetchone()
            if exists:
                return False
            conn.execute(f'CREATE DATABASE "{rec.database}"')
            return True

    def _write_record(self, record: ClusterRecord) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(record), indent=2) + "\n")
        os.chmod(tmp, 0o600)
        tmp.replace(self.state_path)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise up/down between processes sharing this home."""
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / ".cluster.lock").open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _give_to_server_user(self, *paths: Path) -> None:
        if not _running_as_root():
            return
        entry = pwd.getpwnam("postgres")
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        for parent in {p.parent for p in paths}:
            if not parent.is_relative_to(self.home):
                os.chown(parent, entry.pw_uid, entry.pw_gid)

    def _run(self, argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [self.binaries.tool(argv[0]), *argv[1:]]
        if _running_as_root():
            _require_postgres_user()
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd="/")
        if check and result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            raise ClusterError(f"{argv[0]} failed: {message[-1] if message else 'no output'}")
        return result


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _require_postgres_user() -> None:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterError(
            "running as root, PostgreSQL needs the 'postgres' system user, which does not exist; "
            "install the distribution's postgresql package or run as a normal user"
        ) from None


def _user_can_traverse(user: str, path: Path) -> bool:
    """Whether `user` could reach `path` (every ancestor executable for it)."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return False
    probe = path
    while not probe.exists():
        probe = probe.parent
    for directory in [probe, *probe.parents]:
        st = directory.stat()
        if st.st_uid == entry.pw_uid:
            allowed = bool(st.st_mode & 0o100)
        elif st.st_gid == entry.pw_gid:
            allowed = bool(st.st_mode & 0o010)
        else:
            allowed = bool(st.st_mode & 0o001)
        if not allowed:
            return False
    return True


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no server log"
    return " | ".join(text[-lines:]) or "empty server log"
