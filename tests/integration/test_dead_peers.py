"""Vanished peers: a client whose path disappears without a FIN or a reset
(Wi-Fi gone, cable pulled, a NAT that forgot the flow) is dropped, and its
room told, within --dead-peer-timeout, whether the connection is idle
(keepalive probes go unanswered) or the server has output for it that is
never acknowledged (TCP_USER_TIMEOUT).

The vanished client's socket is made inside a network namespace joined to
this one by a veth pair; the server listens on this side's address. The cut
takes the namespace's address away: the server's segments still leave without
an error, as over a real path, and vanish on the far side, where nothing is
addressed to them and nothing forwards them (so no ICMP error comes back
either); nothing comes back at all. Both neighbour entries are permanent, so
that no failed ARP look-up turns the silence into "host unreachable".

Making a namespace needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN): without it
the tests are skipped, with the reason. CI runs them as root."""

import asyncio
import ipaddress
import os
import socket
import subprocess
import sys
import time
import unittest

from cturn_client import READ_LIMIT, TIMEOUT_SCALE, Client, form_room
from cturn_testcase import ServerTestCase
from server_process import ServerProcess

# --dead-peer-timeout of the tests: short, so that they are quick. The server
# gives up after half of it (GIVE_UP, from the last segment alice's kernel sent
# for keepalive, from the first unacknowledged send for output): keepalive
# probes after IDLE of silence, then one a second (dead_peer_timing_within).
BOUND = 8.0
GIVE_UP = BOUND / 2
IDLE = GIVE_UP / 2
# Between the kernel dropping the connection and the room-mate reading the
# notice: the hub's work and one delivery, slower under sanitizers.
SLACK = 1.5 * TIMEOUT_SCALE
# 198.18.0.0/15 is set aside for tests of network devices (RFC 2544): no real
# network uses it, so the /30 of a test cannot shadow one.
TEST_NETWORK = ipaddress.ip_network("198.18.0.0/15")
OUTER_MAC = "02:c7:00:00:00:01"
INNER_MAC = "02:c7:00:00:00:02"

# Run inside the namespace: make a TCP socket there and hand it back over the
# Unix socket inherited as argv[1]. A socket keeps the namespace it was made
# in, so the test process can then use it like any other.
MAKE_SOCKET = """
import socket, sys
channel = socket.socket(fileno=int(sys.argv[1]))
made = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
socket.send_fds(channel, [b"socket"], [made.fileno()])
"""


def run(*args, check=True):
    return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          check=check)


class VanishingLink:
    """A network namespace joined to this one by a veth pair on a /30 of its own."""

    _made = 0

    def __init__(self):
        VanishingLink._made += 1
        tag = f"{os.getpid() % 100000}{VanishingLink._made % 10}"
        self.namespace = f"cturn-dead-peers-{tag}"
        self.outer = f"cdpo{tag}"  # interface names: at most 15 characters
        self.inner = f"cdpi{tag}"
        block = (os.getpid() * 10 + VanishingLink._made) % (TEST_NETWORK.num_addresses // 4)
        base = TEST_NETWORK.network_address + 4 * block
        self.outer_address = str(base + 1)
        self.inner_address = str(base + 2)

    @classmethod
    def create(cls):
        """The link, up; raises SkipTest where namespaces may not be made."""
        if os.geteuid() != 0:
            raise unittest.SkipTest("making a network namespace needs root")
        link = cls()
        made = run("ip", "netns", "add", link.namespace, check=False)
        if made.returncode != 0:
            why = made.stderr.strip()
            if "not permitted" in why or "Permission denied" in why:
                raise unittest.SkipTest(f"`ip netns add` is not permitted here: {why}")
            raise AssertionError(f"ip netns add {link.namespace} failed: {why}")
        try:
            link._connect()
        except BaseException:
            link.remove()
            raise
        return link

    def _connect(self):
        inside = ("ip", "-n", self.namespace)
        for command_line in (
                ("ip", "link", "add", self.outer, "address", OUTER_MAC, "type", "veth",
                 "peer", "name", self.inner, "address", INNER_MAC, "netns", self.namespace),
                ("ip", "address", "add", f"{self.outer_address}/30", "dev", self.outer),
                (*inside, "address", "add", f"{self.inner_address}/30", "dev", self.inner),
                ("ip", "neighbour", "replace", self.inner_address, "lladdr", INNER_MAC,
                 "dev", self.outer, "nud", "permanent"),
                (*inside, "neighbour", "replace", self.outer_address, "lladdr", OUTER_MAC,
                 "dev", self.inner, "nud", "permanent"),
                ("ip", "link", "set", self.outer, "up"),
                (*inside, "link", "set", self.inner, "up")):
            done = run(*command_line, check=False)
            if done.returncode != 0:
                raise AssertionError(f"{' '.join(command_line)} failed: {done.stderr.strip()}")

    def socket(self):
        """A TCP socket in the namespace."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with ours, theirs:
            subprocess.run(["ip", "netns", "exec", self.namespace, sys.executable, "-c",
                            MAKE_SOCKET, str(theirs.fileno())],
                           pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, check=True,
                           timeout=30)
            _, fds, _, _ = socket.recv_fds(ours, 16, 1)
        return socket.socket(fileno=fds[0])

    def cut(self):
        """From now on every packet vanishes. The namespace gives up its
        address: what the server sends still leaves this side without an
        error (as over a real path, and unlike a link taken down, which this
        side's kernel would notice) and is dropped over there, where it is no
        longer addressed to anyone and nothing forwards it, silently; alice's
        kernel answers nothing."""
        run("ip", "-n", self.namespace, "address", "flush", "dev", self.inner)

    def remove(self):
        """Never raises; deleting one end of a veth pair deletes both."""
        run("ip", "link", "delete", self.outer, check=False)
        run("ip", "netns", "delete", self.namespace, check=False)


class LinkServer(ServerProcess):
    """The server, listening on this side's address of the link."""

    def __init__(self, host, flags):
        self.host = host
        super().__init__(flags)


class DeadPeerTestCase(ServerTestCase):
    """A fresh link and a server listening on it for each test."""

    async def asyncSetUp(self):
        self.link = await asyncio.to_thread(VanishingLink.create)
        self.addCleanup(self.link.remove)
        self.clients = []
        self.redis = None
        self.server = LinkServer(self.link.outer_address, self.server_flags)
        self.nodes = [self.server]
        self.addCleanup(self.server.kill)
        await asyncio.to_thread(self.server.start)

    async def vanishing_user(self, name):
        """A registered client whose socket lives across the link."""
        sock = await asyncio.to_thread(self.link.socket)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            log_mark = len(self.server.lines)
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(
                sock, (self.server.host, self.server.port)), 5 * TIMEOUT_SCALE)
            reader, writer = await asyncio.open_connection(sock=sock, limit=READ_LIMIT)
        except BaseException:
            sock.close()
            raise
        client = Client(reader, writer, f"{name} (across the link)")
        client.node = self.server
        client.log_mark = log_mark
        self.clients.append(client)
        await client.register(name)
        return client

    async def room_with_a_vanishing_member(self):
        """alice across the link, bob beside the server, both in "lobby" and quiet."""
        alice = await self.vanishing_user("alice")
        bob = await self.user("bob")
        await form_room("lobby", alice, bob)
        await alice.barrier()
        await bob.barrier()
        await self.all_acknowledged(alice)
        return alice, bob

    async def all_acknowledged(self, client, timeout=5 * TIMEOUT_SCALE):
        """Wait until the server's socket to `client` has no output in flight:
        the client's kernel may delay its acknowledgement of what the client
        read last (40 ms or more), and until it comes the connection is not
        silent but waiting for that acknowledgement."""
        local = f"{self.server.host}:{self.server.port}"
        remote = f"{self.link.inner_address}:{client.local_port}"
        deadline = time.monotonic() + timeout
        while True:
            listed = await asyncio.to_thread(
                run, "ss", "--tcp", "--numeric", "--no-header", "state", "established",
                "src", local, "dst", remote)
            fields = listed.stdout.split()
            if len(fields) >= 2 and fields[1] == "0":  # Recv-Q Send-Q Local Peer
                return
            self.assertLess(time.monotonic(), deadline,
                            f"the server's output to {remote} still unacknowledged: "
                            f"{listed.stdout!r}")
            await asyncio.sleep(0.01)

    async def assert_told(self, bob, since, earliest, latest):
        """bob reads `alice disconnected` between `earliest` and `latest`
        seconds after `since`; the server says why. Returns the time taken."""
        await bob.expect_system("alice disconnected", timeout=latest + 10)
        elapsed = time.monotonic() - since
        self.assertGreaterEqual(elapsed, earliest, "alice was dropped before her time")
        self.assertLessEqual(elapsed, latest, "alice was dropped too late")
        await asyncio.to_thread(self.server.wait_for_log,
                                r'\bdisconnect id=\d+ user=alice reason="keepalive timeout"')
        return elapsed

    async def assert_name_free(self):
        again = await self.connect(label="alice again")
        await again.register("alice")


class VanishedPeers(DeadPeerTestCase):
    server_flags = ("--dead-peer-timeout", str(int(BOUND)))

    async def test_a_silent_peer_is_dropped_by_keepalive(self):
        alice, bob = await self.room_with_a_vanishing_member()
        quiet_since = time.monotonic()
        await asyncio.to_thread(self.link.cut)
        # The first probe goes out after IDLE of silence: nothing is decided before.
        await self.assert_told(bob, quiet_since, IDLE, GIVE_UP + SLACK)
        alice.abort()
        await self.assert_name_free()

    async def test_output_never_acknowledged_is_given_up_on_within_the_bound(self):
        alice, bob = await self.room_with_a_vanishing_member()
        quiet_since = time.monotonic()
        await asyncio.to_thread(self.link.cut)
        # The worst case: output for alice after her first probe went
        # unanswered. It stops the probes (the kernel retransmits instead,
        # for about 15 minutes by itself); TCP_USER_TIMEOUT ends the wait.
        # Only time can place the messages there: no barrier reaches alice.
        await asyncio.sleep(IDLE + 0.5 - (time.monotonic() - quiet_since))
        sent_at = time.monotonic()
        for index in range(5):
            await bob.say(f"are you there? {index}")
        await bob.barrier()
        # TCP_USER_TIMEOUT counts from the first unacknowledged send at the
        # latest (some kernels count from the last segment received), so
        # at most GIVE_UP from here, and never before the first probe.
        await self.assert_told(bob, sent_at, 0, GIVE_UP + SLACK)
        self.assertGreaterEqual(time.monotonic() - quiet_since, IDLE)
        self.assertLessEqual(time.monotonic() - quiet_since, BOUND + SLACK)
        alice.abort()
        await self.assert_name_free()


class KernelTimings(DeadPeerTestCase):
    """0 keeps the kernel's timings (hours): the same cut goes unnoticed."""

    server_flags = ("--dead-peer-timeout", "0", "--shutdown-grace-ms", "500")

    async def test_zero_leaves_a_vanished_peer_in_its_room_for_now(self):
        alice, bob = await self.room_with_a_vanishing_member()
        await asyncio.to_thread(self.link.cut)
        await bob.say("are you there?")
        # Both of the server's own timings would have given up by now.
        await bob.expect_nothing_for(GIVE_UP + SLACK)
        await bob.barrier()
        alice.abort()


if __name__ == "__main__":
    unittest.main()
