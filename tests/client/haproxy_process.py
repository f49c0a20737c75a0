"""A real HAProxy in front of a test's cluster nodes, configured from the
Compose cluster's own docker/haproxy.cfg: the same defaults (mode tcp,
timeouts, retries and redispatch), the same frontend and backend (leastconn,
the protocol health check, PROXY v2 to the nodes, the unchecked fallbacks),
with loopback addresses instead of the Compose service names. Its server
states are read from its stats socket."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from cturn_client import TIMEOUT_SCALE
from redis_process import free_port

REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE_CONFIG = os.path.join(REPOSITORY, "docker", "haproxy.cfg")
BACKEND = "cturn_nodes"
START_TIMEOUT = 10.0 * TIMEOUT_SCALE
# The Compose names that only Docker's resolver knows: here every address is
# a literal one, so the resolving options go.
RESOLVING_OPTIONS = re.compile(r"\s+(resolvers \S+|resolve-prefer \S+|resolve-opts \S+|init-addr \S+)")
COMPOSE_SERVER = re.compile(r"^(\s+server (cturn\d+)(?:-fallback)?) \S+(.*)$")


def sections(text):
    """[(header line, [body lines])] of an HAProxy config, in order."""
    found = []
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            found.append((line, []))
        elif found:
            found[-1][1].append(line)
    return found


def derived_config(node_ports, frontend_port, stats_socket):
    """docker/haproxy.cfg for nodes cturn1.. on 127.0.0.1:`node_ports`."""
    with open(COMPOSE_CONFIG, encoding="utf-8") as source:
        compose = sections(source.read())
    addresses = {f"cturn{index}": f"127.0.0.1:{port}" for index, port in enumerate(node_ports, 1)}
    out = ["global", "    log stderr format raw local0 info",
           f"    stats socket {stats_socket} mode 600 level admin"]
    for header, body in compose:
        kind = header.split()[0]
        if kind in ("global", "resolvers", "listen"):
            continue  # the container's logging, Docker's DNS, a fixed port
        out.append(header)
        for line in body:
            if line.strip().startswith("bind :"):
                line = line.replace("bind :1337", f"bind 127.0.0.1:{frontend_port}")
            elif line.strip().startswith("default-server"):
                line = RESOLVING_OPTIONS.sub("", line)
            elif match := COMPOSE_SERVER.match(line):
                if match.group(2) not in addresses:
                    continue
                line = f"{match.group(1)} {addresses[match.group(2)]}{match.group(3)}"
            out.append(line)
    return "\n".join(out) + "\n"


class HaproxyProcess:
    host = "127.0.0.1"

    def __init__(self, node_ports):
        self.binary = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
        if self.binary is None:
            raise RuntimeError("haproxy is not installed (Debian package haproxy)")
        self.dir = tempfile.mkdtemp(prefix="cturn-haproxy-")
        self.port = free_port()
        self.stats_socket = os.path.join(self.dir, "admin.sock")
        self.config = derived_config(node_ports, self.port, self.stats_socket)
        self.config_path = os.path.join(self.dir, "haproxy.cfg")
        with open(self.config_path, "w", encoding="utf-8") as out:
            out.write(self.config)
        self.lines = []
        self._proc = None
        self._reader = None

    def start(self):
        self._proc = subprocess.Popen([self.binary, "-f", self.config_path, "-db"],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(self.stats_socket):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"haproxy did not start\n{self.log()}")
            time.sleep(0.05)
        return self

    def _drain(self):
        for raw in self._proc.stdout:
            self.lines.append(raw.decode("utf-8", "backslashreplace").rstrip("\n"))

    def log(self):
        return "---- haproxy log ----\n" + "\n".join(self.lines[-200:]) + "\n---- end of haproxy log ----"

    def command(self, text):
        with socket.socket(socket.AF_UNIX) as connection:
            connection.settimeout(5.0 * TIMEOUT_SCALE)
            connection.connect(self.stats_socket)
            connection.sendall(text.encode() + b"\n")
            reply = b""
            while chunk := connection.recv(65536):
                reply += chunk
        return reply.decode()

    def states(self):
        """{server name: status} of the backend, e.g. {"cturn1": "UP", ...}."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        name, server, status = header.index("pxname"), header.index("svname"), header.index("status")
        return {fields[server]: fields[status] for fields in (line.split(",") for line in lines[1:] if line)
                if fields[name] == BACKEND}

    def wait_for_state(self, server, wanted, timeout):
        """Until HAProxy's status of `server` is exactly `wanted` ("UP" or
        "DOWN", not a transition such as "UP 1/2"); the seconds it took."""
        started = time.monotonic()
        while True:
            state = self.states().get(server)
            if state == wanted:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise AssertionError(f"haproxy: {server} is {state!r}, not {wanted!r}, after {timeout:.0f} s"
                                     f"\n{self.log()}")
            time.sleep(0.1)

    def cleanup(self):
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._reader:
            self._reader.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)
