"""A real redis-server for cluster tests, on a free loopback port, with no
persistence; stopped (or killed) by the test that started it."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from cturn_client import TIMEOUT_SCALE

START_TIMEOUT = 10.0 * TIMEOUT_SCALE


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(process, host, port, what):
    """Until the redis-server `process` answers PING on `port`."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with code {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{what} did not answer on port {port}")


class RedisProcess:
    host = "127.0.0.1"

    def __init__(self, port=None, extra=()):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed (Debian package redis-server)")
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="cturn-redis-")
        self.extra = tuple(extra)  # more redis-server flags, e.g. --replicaof
        self._proc = None

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def start(self):
        self._proc = subprocess.Popen(
            [self.binary, "--bind", self.host, "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--loglevel", "warning",
             # DEBUG SLEEP, a real stall of Redis, for the fault tests.
             "--enable-debug-command", "local", *self.extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_answering(self._proc, self.host, self.port, "redis-server")
        return self

    def command(self, *arguments, timeout=30):
        """Runs one command on a connection of its own; its raw reply (blocks)."""
        encoded = f"*{len(arguments)}\r\n".encode()
        for argument in arguments:
            data = str(argument).encode()
            encoded += f"${len(data)}\r\n".encode() + data + b"\r\n"
        with socket.create_connection((self.host, self.port), timeout=timeout) as connection:
            connection.sendall(encoded)
            return connection.recv(65536)

    def answers_within(self, seconds):
        """Whether a PING on a new connection is answered within `seconds`."""
        try:
            return self.command("PING", timeout=seconds).startswith(b"+PONG")
        except OSError:  # socket.timeout included
            return False

    def pause(self):
        os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self._proc.pid, signal.SIGCONT)

    def kill(self):
        """Never raises; also the last-resort cleanup."""
        if self._proc and self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGCONT)
            self._proc.kill()
            self._proc.wait()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
