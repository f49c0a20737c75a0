"""The operators' endpoint (--metrics): a fixed scenario and the exact values
it must produce, the output accepted by `promtool check metrics`, and
/healthz turning 503 once shutdown begins."""

import asyncio
import http.client
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from cturn_client import DEFAULT_TIMEOUT, TIMEOUT_SCALE, Client, command, encode
from cturn_testcase import ServerTestCase

LIMIT = 4096  # --max-output-bytes: one frame larger than this makes a slow consumer
SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")


def parse(text):
    """{'name{labels}': value} for every sample line."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        if match is None:
            raise AssertionError(f"not a sample line: {line!r}")
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return samples


class Metrics(ServerTestCase):
    server_flags = ("--metrics", "127.0.0.1:0", "--max-output-bytes", str(LIMIT),
                    "--max-connections", "4", "--rate-limit", "0", "--rate-limit-bytes", "0",
                    "--shutdown-grace-ms", "20000")

    async def asyncSetUp(self):
        await super().asyncSetUp()
        line = await asyncio.to_thread(self.server.wait_for_log, r"\bmetrics-listening ")
        self.metrics_port = int(re.search(r"\bport=(\d+)", line).group(1))
        self.bytes_up = 0
        self.bytes_down = 0

    def get(self, path):
        """(status, body) of GET path on the metrics endpoint."""
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=DEFAULT_TIMEOUT) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    async def scrape(self):
        status, body = await asyncio.to_thread(self.get, "/metrics")
        self.assertEqual(status, 200)
        return body

    async def counted(self, client):
        """Counts what `client` sends and receives, as the server should."""
        send, recv_line = client.send, client.recv_line

        async def counting_send(*frames):
            self.bytes_up += sum(len(encode(frame)) for frame in frames)
            await send(*frames)

        async def counting_recv_line(*args, **kwargs):
            line = await recv_line(*args, **kwargs)
            self.bytes_down += len(line)
            return line

        client.send, client.recv_line = counting_send, counting_recv_line
        return client

    async def member(self, name):
        client = await self.counted(await self.connect(label=name))
        await client.register(name)
        return client

    async def settled(self, expected, timeout=DEFAULT_TIMEOUT):
        """The samples once every one in `expected` has its value (writes and
        session clean-up finish just after the frames that show them)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            samples = parse(await self.scrape())
            wrong = {k: (samples.get(k), v) for k, v in expected.items() if samples.get(k) != v}
            if not wrong:
                return samples
            if asyncio.get_running_loop().time() > deadline:
                self.fail(f"metrics (actual, expected) that differ: {wrong}")
            await asyncio.sleep(0.05)

    async def test_a_fixed_scenario_gives_exact_values(self):
        alice, bob, carol, dave = [await self.member(n) for n in ("alice", "bob", "carol", "dave")]
        full = await Client.connect(self.server.host, self.server.port, label="fifth")
        await full.expect_error("Server full")
        await full.close()

        await alice.create("lobby")
        await bob.join("lobby")
        await alice.expect_system("bob joined the room")
        await alice.send(*(command("message", f"m{i}") for i in range(3)))
        for i in range(3):
            await bob.expect_message("alice", {"content": f"m{i}"})
        await bob.send(b"{\n")
        await bob.expect_error("Invalid JSON format")

        await carol.create("backroom")
        await dave.join("backroom")
        await carol.expect_system("dave joined the room")
        # One frame over the output limit: dave is a slow consumer at once.
        await carol.send(command("message", "x" * LIMIT))
        await carol.expect_system("dave disconnected")
        await dave.expect_closed()

        text = await self.scrape()
        samples = await self.settled({
            "cturn_connections": 3, "cturn_users": 3, "cturn_rooms": 2,
            'cturn_commands_total{type="username"}': 4, 'cturn_commands_total{type="create"}': 2,
            'cturn_commands_total{type="join"}': 2, 'cturn_commands_total{type="leave"}': 0,
            'cturn_commands_total{type="message"}': 4,
            'cturn_errors_total{error="invalid_json"}': 1,
            'cturn_errors_total{error="server_full"}': 1,
            'cturn_errors_total{error="room_exists"}': 0,
            # alice 4, bob 6, carol 5, dave 2 frames queued
            "cturn_deliveries_total": 17,
            "cturn_bytes_received_total": self.bytes_up,
            "cturn_bytes_sent_total": self.bytes_down,
            'cturn_disconnects_total{reason="slow_consumer"}': 1,
            'cturn_disconnects_total{reason="eof"}': 0,
            "cturn_slow_consumers_total": 1,
            'cturn_rejected_connections_total{reason="server_full"}': 1,
            'cturn_rejected_connections_total{reason="shutting_down"}': 0,
            'cturn_message_handoff_seconds_bucket{le="+Inf"}': 4,
            "cturn_message_handoff_seconds_count": 4,
        })
        for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                     "process_open_fds", "process_max_fds", "process_start_time_seconds"):
            self.assertIn(name, samples)
        self.assertGreater(samples["process_resident_memory_bytes"], 0)
        self.assertGreater(samples["process_open_fds"], 3)
        self.assertGreater(samples["process_start_time_seconds"], 1.7e9)
        # No user or room name ever becomes a label value.
        for secret in ("alice", "lobby", "dave", "backroom"):
            self.assertNotIn(secret, text)

    @unittest.skipIf(shutil.which("promtool") is None, "promtool (Debian package prometheus) missing")
    async def test_promtool_accepts_the_output(self):
        alice = await self.member("alice")
        await alice.create("lobby")
        await alice.send(command("message", "hello"))
        await alice.send(b"{\n")
        await alice.expect_error("Invalid JSON format")
        checked = subprocess.run(["promtool", "check", "metrics"], input=(await self.scrape()).encode(),
                                 capture_output=True, timeout=30 * TIMEOUT_SCALE)
        self.assertEqual(checked.returncode, 0, checked.stdout.decode() + checked.stderr.decode())

    def health_check(self):
        """`cturn-server --check` with --metrics, as the container runs it:
        (exit code, what it printed)."""
        checked = subprocess.run(
            [self.server.binary, "--check", "--bind", "127.0.0.1", "--port", "1",
             "--metrics", f"127.0.0.1:{self.metrics_port}"],
            capture_output=True, text=True, timeout=30 * TIMEOUT_SCALE)
        return checked.returncode, checked.stdout + checked.stderr

    async def test_healthz_turns_503_during_shutdown(self):
        self.assertEqual(await asyncio.to_thread(self.get, "/healthz"), (200, "ok\n"))
        self.assertEqual((await asyncio.to_thread(self.get, "/nowhere"))[0], 404)
        # --check asks /healthz, not the protocol port (1: nobody listens there).
        self.assertEqual(await asyncio.to_thread(self.health_check),
                         (0, f"ok: GET http://127.0.0.1:{self.metrics_port}/healthz: ok\n"))
        lingering = await self.connect("lingering")  # keeps the shutdown in its grace period
        self.server.send_signal(signal.SIGTERM)
        await lingering.expect_system("Server shutting down")
        self.assertEqual(await asyncio.to_thread(self.get, "/healthz"),
                         (503, "shutting down\n"))
        code, printed = await asyncio.to_thread(self.health_check)
        self.assertEqual(code, 1, printed)
        self.assertIn("503 shutting down", printed)
        await lingering.expect_closed()


class EndpointBounds(ServerTestCase):
    """The endpoint is a side door: HEAD, and bounded connections and deadlines."""

    server_flags = ("--metrics", "127.0.0.1:0")
    CAP = 64
    DEADLINE = 5.0  # idle keep-alive connection, and request

    async def asyncSetUp(self):
        await super().asyncSetUp()
        line = await asyncio.to_thread(self.server.wait_for_log, r"\bmetrics-listening ")
        self.metrics_port = int(re.search(r"\bport=(\d+)", line).group(1))
        self.sockets = []

    async def asyncTearDown(self):
        for sock in self.sockets:
            sock.close()
        await super().asyncTearDown()

    def open(self):
        sock = socket.create_connection(("127.0.0.1", self.metrics_port), timeout=DEFAULT_TIMEOUT)
        self.sockets.append(sock)
        return sock

    @staticmethod
    def request(sock, method="GET", path="/healthz"):
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())

    @staticmethod
    def read_until_closed(sock, timeout):
        """(bytes received, seconds until the server closed); fails on timeout."""
        sock.settimeout(timeout)
        started = time.monotonic()
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data, time.monotonic() - started

    def head(self, path):
        connection = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=DEFAULT_TIMEOUT)
        try:
            connection.request("HEAD", path)
            response = connection.getresponse()
            return response.status, response.getheader("Content-Length"), response.read()
        finally:
            connection.close()

    async def test_head_sends_the_headers_of_get(self):
        self.assertEqual(await asyncio.to_thread(self.head, "/healthz"), (200, "3", b""))
        status, length, body = await asyncio.to_thread(self.head, "/metrics")
        self.assertEqual((status, body), (200, b""))
        self.assertGreater(int(length), 100)
        # And the connection still speaks HTTP afterwards: HEAD then GET on one connection.
        sock = await asyncio.to_thread(self.open)
        self.request(sock, "HEAD")
        self.request(sock, "GET")
        sock.shutdown(socket.SHUT_WR)
        data, _ = await asyncio.to_thread(self.read_until_closed, sock, DEFAULT_TIMEOUT)
        self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 2, data)
        self.assertTrue(data.endswith(b"\r\n\r\nok\n"), data)
        self.assertEqual(data.count(b"ok\n"), 1, data)

    async def test_other_methods_are_refused(self):
        sock = await asyncio.to_thread(self.open)
        self.request(sock, "POST")
        sock.shutdown(socket.SHUT_WR)
        data, _ = await asyncio.to_thread(self.read_until_closed, sock, DEFAULT_TIMEOUT)
        self.assertTrue(data.startswith(b"HTTP/1.1 405 "), data)
        self.assertIn(b"Allow: GET, HEAD\r\n", data)

    async def test_idle_and_unfinished_connections_are_closed(self):
        idle = await asyncio.to_thread(self.open)
        self.request(idle)  # answered, then the keep-alive connection idles
        unfinished = await asyncio.to_thread(self.open)
        unfinished.sendall(b"GET /metrics HTTP/1.1\r\n")  # and never the rest
        silent = await asyncio.to_thread(self.open)
        for sock, answered in ((idle, True), (unfinished, False), (silent, False)):
            data, waited = await asyncio.to_thread(self.read_until_closed, sock,
                                                   (self.DEADLINE + 5) * TIMEOUT_SCALE)
            self.assertEqual(data.startswith(b"HTTP/1.1 200 OK"), answered, data)
            self.assertLess(waited, (self.DEADLINE + 2) * TIMEOUT_SCALE)

    async def test_a_busy_keep_alive_connection_is_retired(self):
        """A request every few seconds, under the idle deadline, cannot hold a
        connection for ever: once 30 s old it is closed after its answer."""
        sock = await asyncio.to_thread(self.open)
        sock.settimeout(DEFAULT_TIMEOUT)
        started = time.monotonic()
        answers = 0
        while True:
            self.request(sock)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = await asyncio.to_thread(sock.recv, 4096)
                self.assertTrue(chunk, f"closed without an answer after {answers} answers")
                head += chunk
            answers += 1
            if b"Connection: close" in head:
                break
            self.assertLess(time.monotonic() - started, 30 + 2 * self.DEADLINE, "never retired")
            await asyncio.sleep(self.DEADLINE * 0.6)  # pacing: a keep-alive client, never idle for long
        self.assertGreaterEqual(time.monotonic() - started, 30 - 1)
        data, _ = await asyncio.to_thread(self.read_until_closed, sock, DEFAULT_TIMEOUT)
        self.assertEqual(data.count(b"HTTP/1.1"), 0, data)

    async def test_connections_over_the_cap_wait_and_chat_goes_on(self):
        held = [await asyncio.to_thread(self.open) for _ in range(self.CAP)]
        extra = await asyncio.to_thread(self.open)  # connected in the kernel's backlog
        self.request(extra)
        extra.settimeout(1.0)
        with self.assertRaises(socket.timeout):
            extra.recv(100)  # not served while the cap is reached
        alice = await self.user("alice")  # the chat port is not affected
        await alice.create("lobby")
        held[0].close()
        extra.settimeout(DEFAULT_TIMEOUT)
        self.assertTrue(extra.recv(100).startswith(b"HTTP/1.1 200 OK"))


if __name__ == "__main__":
    unittest.main()
