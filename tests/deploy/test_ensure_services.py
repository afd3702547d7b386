"""scripts/ensure-services.sh, each branch, with fake apt-get, PostgreSQL and RabbitMQ on PATH.

The fakes record every call in `calls` and keep their state in files: PostgreSQL "runs"
once `pg_ctlcluster ... start` was called; RabbitMQ's fake really listens on a free port,
since the script checks it with bash's /dev/tcp.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "ensure-services.sh"
REAL_TOOLS = (
    "bash",
    "ls",
    "sort",
    "tail",
    "grep",
    "cat",
    "mv",
    "sleep",
    "rm",
    "touch",
    "cp",
    "mkdir",
    "seq",
)

FAKES = {
    "id": 'echo "${FAKE_UID:-1000}"',
    "pg_isready": '[ -e "$STATE/pg-running" ]',
    "pg_ctlcluster": 'echo "pg_ctlcluster $*" >>"$STATE/calls"\n'
    'case " $* " in *" start "*) touch "$STATE/pg-running";; esac',
    "rabbitmq-server": 'echo "rabbitmq-server $*" >>"$STATE/calls"\n'
    '[ -n "${FAKE_RABBIT_NEVER_UP:-}" ] && exit 0\n'
    "python3 -c 'import socket, sys, time, os\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    's.bind(("127.0.0.1", int(os.environ["GS_RABBITMQ_PORT"]))); s.listen()\n'
    'open(os.environ["STATE"] + "/rabbit.pid", "w").write(str(os.getpid()))\n'
    "time.sleep(60)' >/dev/null 2>&1 &\n"
    'for _ in $(seq 100); do [ -e "$STATE/rabbit.pid" ] && break; sleep 0.1; done',
    "rabbitmqctl": 'echo "rabbitmqctl $*" >>"$STATE/calls"\n'
    'case " $* " in *" list_users "*)\n'
    '  [ -e "$STATE/no-guest" ] || printf "guest\\t[administrator]\\n";;\n'
    "esac\n"
    "exit 0",
    "apt-get": 'echo "apt-get $*" >>"$STATE/calls"\n'
    'case " $* " in *" install "*)\n'
    '  for pkg in "$@"; do case "$pkg" in\n'
    '    postgresql) cp "$TEMPLATES/pg_ctlcluster" "$FAKEBIN/"; mkdir -p "$ETC/15/main"\n'
    '      echo "host all all 127.0.0.1/32 scram-sha-256" >"$ETC/15/main/pg_hba.conf";;\n'
    '    rabbitmq-server) cp "$TEMPLATES/rabbitmq-server" "$TEMPLATES/rabbitmqctl" "$FAKEBIN/";;\n'
    "  esac; done;;\n"
    "esac",
}


@dataclass
class Machine:
    """A pretend Debian machine: which fakes are installed, its state, and running it."""

    root: Path
    port: int

    @property
    def fakebin(self) -> Path:
        return self.root / "bin"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def etc(self) -> Path:
        return self.root / "etc-postgresql"

    def install(self, *names: str) -> None:
        for name in names:
            shutil.copy(self.root / "templates" / name, self.fakebin / name)
            if name == "pg_ctlcluster":
                (self.etc / "15" / "main").mkdir(parents=True, exist_ok=True)
                (self.etc / "15" / "main" / "pg_hba.conf").write_text("local all all peer\n")

    def calls(self) -> list[str]:
        path = self.state / "calls"
        return path.read_text().splitlines() if path.exists() else []

    def run(self, uid: int = 0, **env: str) -> subprocess.CompletedProcess[str]:
        environment = {
            "PATH": f"{self.fakebin}:{self.root / 'tools'}",
            "STATE": str(self.state),
            "FAKEBIN": str(self.fakebin),
            "TEMPLATES": str(self.root / "templates"),
            "ETC": str(self.etc),
            "FAKE_UID": str(uid),
            "GS_PG_PORT": "5432",
            "GS_RABBITMQ_PORT": str(self.port),
            "GS_ETC_POSTGRESQL": str(self.etc),
            "GS_WAIT_SECONDS": "5",
            **env,
        }
        return subprocess.run(
            [str(self.root / "tools" / "bash"), str(SCRIPT)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    """A machine with apt-get and the basics, but neither PostgreSQL nor RabbitMQ."""
    for part in ("bin", "state", "templates", "tools", "etc-postgresql"):
        (tmp_path / part).mkdir()
    for tool in REAL_TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (tmp_path / "tools" / tool).symlink_to(found)
    (tmp_path / "tools" / "python3").symlink_to(sys.executable)
    for name, body in FAKES.items():
        path = tmp_path / "templates" / name
        path.write_text("#!/usr/bin/env bash\n" + textwrap.dedent(body) + "\n")
        path.chmod(0o755)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = Machine(tmp_path, port)
    result.install("id", "pg_isready", "apt-get")
    yield result
    pid_file = result.state / "rabbit.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text()), signal.SIGTERM)


def test_as_root_without_the_services_it_installs_configures_and_starts_them(
    machine: Machine,
) -> None:
    done = machine.run(uid=0)
    assert done.returncode == 0, done.stderr
    calls = machine.calls()
    assert "apt-get update -q" in calls
    assert "apt-get install -y -q --no-install-recommends postgresql rabbitmq-server" in calls
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main start" in calls
    assert "rabbitmq-server -detached" in calls
    hba = (machine.etc / "15" / "main" / "pg_hba.conf").read_text().splitlines()
    assert hba[1:3] == [
        "host    all    postgres    127.0.0.1/32    trust",
        "host    all    postgres    ::1/128         trust",
    ]
    assert hba[-1] == "host all all 127.0.0.1/32 scram-sha-256"  # Debian's rules stay


def test_as_root_a_fresh_broker_without_guest_gets_it_back(machine: Machine) -> None:
    (machine.state / "no-guest").touch()
    done = machine.run(uid=0)
    assert done.returncode == 0, done.stderr
    assert "rabbitmqctl -q add_user guest guest" in machine.calls()


def test_without_root_it_prints_the_one_command_and_installs_nothing(machine: Machine) -> None:
    done = machine.run(uid=1000)
    assert done.returncode == 1
    assert "sudo apt-get install -y postgresql rabbitmq-server" in done.stdout
    assert "not installed" in done.stderr
    assert machine.calls() == []


def test_installed_but_stopped_services_are_started_and_not_reinstalled(
    machine: Machine,
) -> None:
    machine.install("pg_ctlcluster", "rabbitmq-server", "rabbitmqctl")
    hba_before = (machine.etc / "15" / "main" / "pg_hba.conf").read_text()
    done = machine.run(uid=1000)
    assert done.returncode == 0, done.stderr
    calls = machine.calls()
    assert not any(call.startswith("apt-get") for call in calls)
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main start" in calls
    assert "rabbitmq-server -detached" in calls
    # An existing installation's authentication is the owner's business: left alone.
    assert (machine.etc / "15" / "main" / "pg_hba.conf").read_text() == hba_before


def test_running_services_are_left_alone(machine: Machine) -> None:
    machine.install("pg_ctlcluster", "rabbitmq-server", "rabbitmqctl")
    assert machine.run().returncode == 0
    before = len(machine.calls())
    done = machine.run()
    assert done.returncode == 0, done.stderr
    assert len(machine.calls()) == before  # nothing installed, started or configured


def test_a_service_that_never_comes_up_fails_after_the_wait(machine: Machine) -> None:
    machine.install("pg_ctlcluster", "rabbitmq-server", "rabbitmqctl")
    done = machine.run(GS_WAIT_SECONDS="2", FAKE_RABBIT_NEVER_UP="1")
    assert done.returncode == 1
    assert "did not come up within 2 s" in done.stderr


def test_without_apt_get_it_says_what_to_install(machine: Machine) -> None:
    (machine.fakebin / "apt-get").unlink()
    done = machine.run(uid=0)
    assert done.returncode == 1
    assert "not a Debian-like system" in done.stderr
