"""docker/haproxy.cfg, as the cluster's HAProxy container runs it, with
Debian's haproxy and a real server here (no Docker): only the addresses are
changed, from the Compose service names and ports to loopback.

- Its health check (a username claim, with a PROXY v2 LOCAL header) passes
  (L7OK on the status page) and /healthz answers 200. The welcome's body carries more than the
  content (the resume token), which the check must accept.
- TLS passes through it: the node, behind PROXY v2, terminates TLS on its
  client port, and two TLS clients chat through HAProxy, the certificate
  checked against its CA.
"""

import asyncio
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import tls_material
from cturn_client import TIMEOUT_SCALE, Client, form_room
from redis_process import free_port
from server_process import ServerProcess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, "docker", "haproxy.cfg")
UP_TIMEOUT = 15.0 * TIMEOUT_SCALE


def local_config(node_port, front_port, status_port):
    """docker/haproxy.cfg with loopback addresses; each place must be found,
    so that a changed file fails here rather than being tested half."""
    with open(CONFIG) as f:
        text = f.read()
    for pattern, replacement, count in ((r"bind :1337 ", f"bind 127.0.0.1:{front_port} ", 1),
                                        (r"bind 127\.0\.0\.1:8404\b", f"bind 127.0.0.1:{status_port}", 1),
                                        (r"\bcturn[123]:1337\b", f"127.0.0.1:{node_port}", 6)):
        text, found = re.subn(pattern, replacement, text)
        if found != count:
            raise AssertionError(f"{pattern!r} found {found} times in {CONFIG}, want {count}")
    return text


def checked_servers(port):
    """{server: check_status} of the cturn_nodes servers from HAProxy's
    /stats;csv (L7OK once the protocol check passed), {} while nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET /stats;csv HTTP/1.0\r\n\r\n")
            text = s.makefile("rb").read().decode()
    except OSError:
        return {}
    rows = [line.split(",") for line in text.splitlines() if line.count(",") > 10]
    if not rows or not rows[0][0].startswith("# pxname"):
        return {}
    column = rows[0].index("check_status")
    return {row[1]: row[column] for row in rows[1:] if row[0] == "cturn_nodes" and row[1].startswith("cturn")
            and not row[1].endswith("-fallback") and row[1] != "BACKEND"}


@unittest.skipUnless(shutil.which("haproxy"), "haproxy is not installed (scripts/packages.txt)")
class ComposeHaproxy(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.server = ServerProcess(flags=("--trusted-proxies", "127.0.0.1/32",
                                           *tls_material.server_flags())).start()
        self.addCleanup(self.server.stop)
        self.front, status = free_port(), free_port()
        self.status = status
        directory = tempfile.mkdtemp(prefix="cturn-compose-haproxy-")
        self.addCleanup(shutil.rmtree, directory, True)
        config = os.path.join(directory, "haproxy.cfg")
        with open(config, "w") as f:
            f.write(local_config(self.server.port, self.front, status))
        self.log = open(os.path.join(directory, "log"), "w+b")
        self.addCleanup(self.log.close)
        # As the image's ENTRYPOINT runs it.
        self.haproxy = subprocess.Popen(["haproxy", "-W", "-db", "-f", config], stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_haproxy)

    def stop_haproxy(self):
        self.haproxy.terminate()
        try:
            self.haproxy.wait(10)
        except subprocess.TimeoutExpired:
            self.haproxy.kill()
            self.haproxy.wait()

    def haproxy_log(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def wait_up(self):
        # Not /healthz alone: HAProxy counts a server up from its start until
        # its checks fail, so the check's own verdict is what counts.
        deadline = time.monotonic() + UP_TIMEOUT
        servers = {}
        while time.monotonic() < deadline:
            if self.haproxy.poll() is not None:
                raise AssertionError(f"haproxy exited with {self.haproxy.returncode}:\n{self.haproxy_log()}")
            servers = checked_servers(self.status)
            if len(servers) == 3 and all(status == "L7OK" for status in servers.values()):
                return
            time.sleep(0.1)
        raise AssertionError(f"checks not passed within {UP_TIMEOUT:.0f} s: {servers}\n{self.haproxy_log()}")

    async def test_the_health_check_marks_the_node_up(self):
        await asyncio.to_thread(self.wait_up)
        with socket.create_connection(("127.0.0.1", self.status), timeout=2) as s:
            s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            self.assertIn(b" 200 ", s.makefile("rb").readline())

    async def test_tls_passes_through_to_the_node(self):
        await asyncio.to_thread(self.wait_up)
        context = tls_material.client_context()
        alice = await Client.connect("127.0.0.1", self.front, label="alice", tls=context)
        bob = await Client.connect("127.0.0.1", self.front, label="bob", tls=context)
        self.assertIsNotNone(alice.writer.get_extra_info("ssl_object"))
        await alice.register("alice")
        await bob.register("bob")
        await form_room("tls-through-haproxy", alice, bob)
        await alice.say("hello over tls")
        await bob.expect_message("alice", {"content": "hello over tls"})
        await alice.close()
        await bob.close()
        # The node saw the clients through HAProxy's PROXY header. Its log is
        # written by a thread of its own, so the line may trail the chat:
        # waited for (and a failure if it never comes), not read at once.
        await asyncio.to_thread(self.server.wait_for_log, r"\bconnect .*\bvia=127\.0\.0\.1:")


if __name__ == "__main__":
    unittest.main()
