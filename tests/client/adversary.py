"""Helpers for the adversarial and fault tests (standard library only).

- `ServerProbe` reads the server process's RSS, CPU time and open descriptors
  from /proc.
- `RawPeer` is a socket driven by hand: it never reads unless told to (slow
  consumers), can be reset (SO_LINGER {1,0}) and sends bytes exactly as given.
- `AdversaryTestCase` is `ServerTestCase` plus: an optional descriptor limit
  (`server_nofile`, set by a tiny Python launcher that execs the server, so
  the pid stays the same) and thread count (`server_threads`) for the server,
  the probe, a pair of bystanders that must lose nothing, and a check that a
  fresh client is still served.
- `limit_address_space` lowers the running server's soft RLIMIT_AS (prlimit)
  to provoke allocation failures.

Sanitizer builds keep freed memory in quarantine (ASan) or allocator caches
(TSan), so RSS bounds are only asserted for plain builds. The kind of build is
detected from the binary (it links `__asan_init` / `__tsan_init`); set
CTURN_TEST_SANITIZER=asan|tsan|none to override the detection.
"""

import asyncio
import fcntl
import os
import resource
import socket
import struct
import sys
import termios
import time

from cturn_client import DEFAULT_TIMEOUT, TIMEOUT_SCALE, Frame, command, encode, expect_quiet, form_room, short
from cturn_testcase import CLUSTER_NODES, ServerTestCase
from server_process import ServerProcess, print_log, sanitizer_of

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


# -- /proc -----------------------------------------------------------------

class ServerProbe:
    """Resource usage of one process, from /proc/<pid>."""

    def __init__(self, pid):
        self.pid = pid

    def _status_kib(self, field):
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise AssertionError(f"no {field} in /proc/{self.pid}/status")

    def rss_kib(self):
        return self._status_kib("VmRSS")

    def cpu_seconds(self):
        """utime + stime of the whole process (all threads), in seconds."""
        with open(f"/proc/{self.pid}/stat") as stat:
            text = stat.read()
        fields = text[text.rindex(")") + 2:].split()  # fields[0] is field 3 (state)
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    async def cpu_over(self, seconds):
        """CPU seconds the process uses during the next `seconds` of wall time."""
        before = self.cpu_seconds()
        await asyncio.sleep(seconds)
        return self.cpu_seconds() - before

    async def wait_for_fds(self, target, timeout=DEFAULT_TIMEOUT, at_most=True):
        """Wait until the descriptor count is <= target (or == target); return the last count."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.fd_count()
            if (count <= target) if at_most else (count == target):
                return count
            if time.monotonic() > deadline:
                return count
            await asyncio.sleep(0.05)

    async def settled_rss_kib(self, below_kib, timeout=3.0):
        """RSS once it is <= below_kib, or the last reading after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            rss = self.rss_kib()
            if rss <= below_kib or time.monotonic() > deadline:
                return rss
            await asyncio.sleep(0.1)


class RssSampler:
    """Samples RSS in the background: `async with RssSampler(probe) as s: ...; s.peak_kib`."""

    def __init__(self, probe, interval=0.02):
        self.probe = probe
        self.interval = interval
        self.peak_kib = 0
        self._task = None

    def sample(self):
        try:
            self.peak_kib = max(self.peak_kib, self.probe.rss_kib())
        except (OSError, AssertionError):
            pass

    async def _run(self):
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    async def __aenter__(self):
        self.sample()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc):
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self.sample()


# -- a socket driven by hand -------------------------------------------------

class RawPeer:
    """A non-blocking socket that reads only when asked to."""

    def __init__(self, sock, label):
        self.sock = sock
        self.label = label
        self.local_port = sock.getsockname()[1]  # names the connection in the server log
        self.received = b""

    def __repr__(self):
        return f"<RawPeer {self.label}>"

    @classmethod
    async def connect(cls, host, port, *, rcvbuf=None, label=None, timeout=DEFAULT_TIMEOUT):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if rcvbuf is not None:  # before connect, so the window is small from the start
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, port)), timeout)
        except BaseException:
            sock.close()
            raise
        return cls(sock, label or f"raw:{sock.getsockname()[1]}")

    async def send(self, *frames, timeout=DEFAULT_TIMEOUT):
        """Send everything or fail the test (closed, reset or blocked for `timeout`)."""
        outcome = await self.try_send(*frames, timeout=timeout)
        if outcome != "sent":
            raise AssertionError(f"[{self.label}] send failed: {outcome}")

    async def try_send(self, *frames, timeout=DEFAULT_TIMEOUT):
        """'sent', 'closed' (reset / broken pipe) or 'blocked' (no progress within `timeout`)."""
        data = b"".join(encode(f) for f in frames)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_sendall(self.sock, data), timeout)
        except asyncio.TimeoutError:  # before OSError: since 3.11 it is one
            return "blocked"
        except OSError:  # reset, broken pipe
            return "closed"
        return "sent"

    async def read_until_closed(self, timeout=DEFAULT_TIMEOUT):
        """Read until EOF or reset: returns (bytes read by this call, 'eof' | 'reset' | 'timeout')."""
        loop = asyncio.get_running_loop()
        data = bytearray()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(data), "timeout"
            try:
                chunk = await asyncio.wait_for(loop.sock_recv(self.sock, 65536), remaining)
            except asyncio.TimeoutError:
                return bytes(data), "timeout"
            except ConnectionError:
                return bytes(data), "reset"
            if not chunk:
                return bytes(data), "eof"
            data += chunk
            self.received += chunk

    async def read_lines(self, count, timeout=DEFAULT_TIMEOUT):
        """The next `count` frames (fails on EOF, reset or timeout)."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        while self.received.count(b"\n") < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"[{self.label}] only {short(self.received)} within {timeout:.1f} s")
            try:
                chunk = await asyncio.wait_for(loop.sock_recv(self.sock, 65536), remaining)
            except (asyncio.TimeoutError, ConnectionError) as exc:
                raise AssertionError(f"[{self.label}] {exc!r} after {short(self.received)}") from None
            if not chunk:
                raise AssertionError(f"[{self.label}] EOF after {short(self.received)}")
            self.received += chunk
        frames = []
        for _ in range(count):
            line, _, self.received = self.received.partition(b"\n")
            frames.append(Frame(line))
        return frames

    async def wait_sent(self, timeout=DEFAULT_TIMEOUT, settle=0.25):
        """Wait until the peer's kernel acknowledged all we sent, then `settle` seconds
        for the server to read it."""
        deadline = time.monotonic() + timeout
        while True:
            unacked = struct.unpack("i", fcntl.ioctl(self.sock, termios.TIOCOUTQ, b"\0" * 4))[0]
            if unacked == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(settle)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """Close with SO_LINGER {1, 0}: the kernel sends RST instead of FIN."""
        if self.sock.fileno() != -1:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()

    def close(self):
        self.sock.close()


# -- servers with a descriptor limit -------------------------------------------

# Sets RLIMIT_NOFILE (soft and hard), then execs the server: same pid, same pipes.
_LAUNCHER = ("import os, resource, sys; n = int(sys.argv[1]); "
             "resource.setrlimit(resource.RLIMIT_NOFILE, (n, n)); "
             "os.execv(sys.argv[2], sys.argv[2:])")


class LimitedServerProcess(ServerProcess):
    def __init__(self, flags=(), nofile=None, **kwargs):
        super().__init__(flags, **kwargs)
        if nofile is not None:
            self.args = [sys.executable, "-c", _LAUNCHER, str(nofile), *self.args]


def limit_address_space(pid, extra_bytes):
    """Lower the soft RLIMIT_AS of process `pid` to its current size + `extra_bytes`
    (the hard limit stays, so `restore_address_space` needs no privilege)."""
    with open(f"/proc/{pid}/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    _, hard = resource.prlimit(pid, resource.RLIMIT_AS)
    resource.prlimit(pid, resource.RLIMIT_AS, (size + extra_bytes, hard))
    return size + extra_bytes


def restore_address_space(pid):
    _, hard = resource.prlimit(pid, resource.RLIMIT_AS)
    resource.prlimit(pid, resource.RLIMIT_AS, (hard, hard))


def server_pid(server):
    return server._proc.pid  # ServerProcess keeps its Popen private; tests only read the pid


# -- the test case ---------------------------------------------------------------

class AdversaryTestCase(ServerTestCase):
    server_nofile = None  # RLIMIT_NOFILE for the server, or None to inherit ours
    server_threads = None  # --threads; None: CTURN_TEST_SERVER_THREADS or 2
    rss_slack_kib = 8 * 1024  # allowed RSS growth over a baseline, plain builds

    async def asyncSetUp(self):
        self.clients = []
        self.raw_peers = []
        self._fresh_count = 0
        self.redis = None
        if CLUSTER_NODES >= 2:
            await self.start_cluster(CLUSTER_NODES)
            self.probe = ServerProbe(server_pid(self.server))
            self.sanitizer = sanitizer_of(self.server.binary)
            return
        self.server = LimitedServerProcess(self.server_flags, nofile=self.server_nofile,
                                           threads=self.server_threads, env=self.server_env)
        self.nodes = [self.server]
        self.addCleanup(self.server.kill)  # see ServerTestCase.asyncSetUp
        await asyncio.to_thread(self.server.start)
        self.probe = ServerProbe(server_pid(self.server))
        self.sanitizer = sanitizer_of(self.server.binary)

    async def asyncTearDown(self):
        """After a passing test, with every test connection closed, a fresh
        client must still be served; then the usual checks (alive, exit 0, no
        sanitizer report). The server log is printed when the test failed."""
        for peer in self.raw_peers:
            peer.close()
        failed = self.has_failed()
        if failed:
            for client in self.clients:
                client.abort()
            self.clients = []
        elif not self.server.signalled and self.server.returncode is None:
            for client in self.clients:
                await client.close()
            self.clients = []
            try:
                await self.assert_fresh_client_served(retry_full=True)
            except BaseException:
                self.server.kill()
                print_log(self.server)
                raise
        try:
            await super().asyncTearDown()
        finally:
            if failed and not os.environ.get("CTURN_TEST_SHOW_LOG"):
                print_log(self.server)

    async def raw(self, label=None, **kwargs):
        log_mark = len(self.server.lines)
        peer = await RawPeer.connect(self.server.host, self.server.port, label=label, **kwargs)
        peer.log_mark = log_mark  # for disconnect_handled()
        self.raw_peers.append(peer)
        return peer

    def note(self, text):
        """Print a measurement when CTURN_TEST_SHOW_MEASUREMENTS=1 (to tune the bounds)."""
        if os.environ.get("CTURN_TEST_SHOW_MEASUREMENTS"):
            print(f"\n  [{self.id().rsplit('.', 1)[-1]}] {text}", file=sys.stderr, flush=True)

    # -- memory ------------------------------------------------------------

    @property
    def plain_build(self):
        return self.sanitizer is None

    def assert_rss_near(self, rss_kib, baseline_kib, what, slack_kib=None):
        """RSS within `slack_kib` of the baseline; only enforced on plain builds."""
        slack_kib = self.rss_slack_kib if slack_kib is None else slack_kib
        self.note(f"{what}: RSS {rss_kib} KiB, baseline {baseline_kib} KiB, "
                  f"growth {rss_kib - baseline_kib} KiB (plain-build limit {slack_kib} KiB)")
        if not self.plain_build:
            return
        self.assertLessEqual(rss_kib - baseline_kib, slack_kib,
                             f"{what}: RSS {rss_kib} KiB is {rss_kib - baseline_kib} KiB over the "
                             f"baseline {baseline_kib} KiB (allowed {slack_kib} KiB)")

    async def assert_idle_cpu(self, what, seconds=1.0, limit=None):
        """The server uses (almost) no CPU over `seconds` of wall time."""
        if limit is None:
            limit = 0.1 if self.plain_build else 0.2
        used = await self.probe.cpu_over(seconds)
        self.note(f"{what}: {used:.2f} s CPU in {seconds:.1f} s")
        self.assertLessEqual(used, limit * seconds,
                             f"{what}: server used {used:.2f} s CPU in {seconds:.1f} s (busy loop?)")

    # -- others lose nothing --------------------------------------------------

    async def bystanders(self, room="calm", names=("by1", "by2")):
        pair = Bystanders(self, room, names)
        await pair.setup()
        return pair

    async def assert_fresh_client_served(self, retry_full=False):
        """A new client registers, creates a room, a second one joins, they talk.

        `retry_full`: a slot may still be held by a connection the server is
        closing; retry on `Server full` for a while."""
        self._fresh_count += 1
        tag = f"fresh{self._fresh_count}"
        first = await self._fresh_user(f"{tag}a", retry_full)
        second = await self._fresh_user(f"{tag}b", retry_full)
        await form_room(f"{tag}-room", first, second)
        await first.say("hello from " + tag)
        await second.expect_message(first.name, {"content": "hello from " + tag})
        await expect_quiet(first, second)
        for client in (first, second):
            await client.close()
            self.clients.remove(client)

    async def _fresh_user(self, name, retry_full):
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while True:
            client = await self.connect(label=name)
            await client.send(command("username", name))
            reply = await client.recv()
            if reply == {"type": "welcome", "body": {"content": f"Username set to: {name}"}}:
                client.name = name
                return client
            if not (retry_full and reply == {"type": "error", "body": {"content": "Server full"}}):
                raise AssertionError(f"fresh client {name}: unexpected reply {reply!r}")
            await client.close()
            self.clients.remove(client)
            self.assertLess(time.monotonic(), deadline, "no free slot for a fresh client")
            await asyncio.sleep(0.05)


class Bystanders:
    """Two clients in their own room who keep talking; they must lose nothing
    and hear nothing from anyone else."""

    def __init__(self, case, room, names):
        self.case = case
        self.room = room
        self.names = names
        self.sent = 0
        self.a = self.b = None

    async def setup(self):
        self.a, self.b = [await self.case.user(name) for name in self.names]
        await form_room(self.room, self.a, self.b)

    async def exchange(self, count=3):
        """`count` messages each way, every one delivered in order; nothing else arrives."""
        for sender, receiver in ((self.a, self.b), (self.b, self.a)):
            first = self.sent
            await sender.send(*(command("message", f"{self.room}#{first + i}") for i in range(count)))
            for i in range(count):
                await receiver.expect_message(sender.name, {"content": f"{self.room}#{first + i}"})
            self.sent += count

    async def assert_quiet(self):
        await expect_quiet(self.a, self.b)


async def gather_all(*aws):
    """asyncio.gather that cancels the rest when one fails."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


__all__ = ["AdversaryTestCase", "Bystanders", "DEFAULT_TIMEOUT", "LimitedServerProcess", "MIB",
           "RawPeer", "RssSampler", "ServerProbe", "TIMEOUT_SCALE", "gather_all",
           "limit_address_space", "restore_address_space", "sanitizer_of", "server_pid"]
