"""Real client addresses behind a load balancer (--trusted-proxies).

A connection from a trusted proxy must begin with a PROXY protocol header (v1
text or v2 binary, as HAProxy's send-proxy / send-proxy-v2 write it); the
client it names is the one capped (--max-connections-per-source) and logged.
A missing or malformed header from a trusted proxy closes the connection
unanswered; from anyone else a header is just a line that is not JSON.
"""

import asyncio
import ipaddress
import re
import struct
import unittest
import urllib.request

from cturn_client import DEFAULT_TIMEOUT, command, encode, form_room
from cturn_testcase import ServerTestCase

TOO_MANY = "Too many connections from your address"
CAP = 2
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v1(client, client_port=40000, server="10.0.0.1", server_port=1337):
    family = "TCP6" if ":" in client else "TCP4"
    return f"PROXY {family} {client} {server} {client_port} {server_port}\r\n".encode()


def proxy_v2(client, client_port=40000, server=None, server_port=1337, local=False):
    address = ipaddress.ip_address(client)
    if server is None:
        server = "10.0.0.1" if address.version == 4 else "2001:db8::1"
    family = 0x11 if address.version == 4 else 0x21
    block = (address.packed + ipaddress.ip_address(server).packed
             + struct.pack("!HH", client_port, server_port))
    command_byte = 0x20 if local else 0x21
    return V2_SIGNATURE + bytes([command_byte, family]) + struct.pack("!H", len(block)) + block


class TrustedProxy(ServerTestCase):
    # 127.0.0.1 is the proxy; 127.0.0.2 is a client connecting directly.
    server_flags = ("--trusted-proxies", "127.0.0.1/32", "--max-connections-per-source", str(CAP))

    async def via_proxy(self, header, name=None, label=None):
        """A connection from the proxy that sends `header`, then registers `name` if given."""
        client = await self.connect(label=label or name)
        if name is None:
            await client.send(header)
        else:
            # Header and first line in one write: the session gets both.
            await client.send(header + encode(command("username", name)))
            await client.expect_welcome(f"Username set to: {name}")
            client.name = name
        return client

    async def expect_refused(self, header):
        extra = await self.via_proxy(header, label="extra")
        await extra.expect_error(TOO_MANY)
        await extra.expect_closed()
        self.clients.remove(extra)

    async def test_v1_is_capped_by_the_address_it_names(self):
        alice = await self.via_proxy(proxy_v1("192.0.2.7"), "alice")
        bob = await self.via_proxy(proxy_v1("192.0.2.7", 40001), "bob")
        await self.expect_refused(proxy_v1("192.0.2.7", 40002))
        # Another client behind the same proxy is not affected.
        await self.via_proxy(proxy_v1("192.0.2.8"), "carol")
        await form_room("lobby", alice, bob)
        self.server.wait_for_log(r"\bconnect id=\d+ peer=192\.0\.2\.7:40000 via=127\.0\.0\.1:\d+")
        self.server.wait_for_log(r"\bsource-limit source=192\.0\.2\.7 limit=2\b")

    async def test_v2_is_capped_by_the_address_it_names(self):
        await self.via_proxy(proxy_v2("198.51.100.1"), "alice")
        await self.via_proxy(proxy_v2("198.51.100.1", 40001), "bob")
        await self.expect_refused(proxy_v2("198.51.100.1", 40002))
        # IPv6: one /64 is one source.
        await self.via_proxy(proxy_v2("2001:db8:1:2::a"), "dave")
        await self.via_proxy(proxy_v2("2001:db8:1:2::b"), "erin")
        await self.expect_refused(proxy_v2("2001:db8:1:2:ffff::1"))
        await self.via_proxy(proxy_v2("2001:db8:1:3::a"), "frank")
        self.server.wait_for_log(r"\bconnect id=\d+ peer=198\.51\.100\.1:40000 via=127\.0\.0\.1:")
        self.server.wait_for_log(r"\bsource-limit source=2001:db8:1:2::/64 limit=2\b")

    async def test_the_proxy_itself_is_not_the_source(self):
        # More clients behind the proxy than the cap allows one address.
        for i in range(CAP + 3):
            await self.via_proxy(proxy_v1(f"192.0.2.{10 + i}"), f"user{i}")

    async def test_a_local_header_counts_as_the_proxy(self):
        # v2 LOCAL (a health check) speaks for nobody: the proxy's own address is capped.
        for _ in range(CAP):
            checker = await self.via_proxy(proxy_v2("192.0.2.1", local=True), label="check")
            await checker.send(b"junk\n")
            await checker.expect_error("Invalid JSON format")
        await self.expect_refused(proxy_v2("192.0.2.1", local=True))

    async def test_a_bad_or_missing_header_from_the_proxy_closes_the_connection(self):
        for label, opening in (("garbage", b"GET / HTTP/1.0\r\n\r\n"),
                               ("no header", command("username", "mallory")),
                               ("bad v1", b"PROXY TCP4 192.0.2.999 10.0.0.1 1 2\r\n"),
                               ("bad v2", V2_SIGNATURE + b"\x21\x11\x00\x04abcd")):
            with self.subTest(label):
                client = await self.connect(label=label)
                mark = len(self.server.lines)
                await client.send(opening)
                await client.expect_closed()
                self.clients.remove(client)
                self.server.wait_for_log(r"\bproxy-header-invalid proxy=127\.0\.0\.1:\d+ why=",
                                         start=mark)
        # The server goes on serving.
        await self.via_proxy(proxy_v1("192.0.2.7"), "alice")

    async def test_a_header_from_an_untrusted_peer_is_an_invalid_line(self):
        client = await self.connect(source="127.0.0.2")
        await client.send(proxy_v1("192.0.2.7"))
        await client.expect_error("Invalid JSON format")
        await client.register("alice")  # an ordinary session from then on
        # The binary v2 header holds several '\n' bytes: it is several lines, none of them JSON.
        client = await self.connect(source="127.0.0.2")
        await client.send(proxy_v2("192.0.2.7") + b"\n")
        await client.expect_error("Invalid JSON format")


class ProxyHealthChecks(ServerTestCase):
    """HAProxy's checks (check-send-proxy: v2 LOCAL; or v1 UNKNOWN) are counted, not logged at info:
    neither their connect nor the hub's username and disconnect lines."""

    server_flags = ("--trusted-proxies", "127.0.0.1/32", "--metrics", "127.0.0.1:0",
                    "--log-level", "debug")

    def health_checks(self, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=DEFAULT_TIMEOUT) as reply:
            text = reply.read().decode()
        return {kind: int(float(value)) for kind, value
                in re.findall(r'(?m)^cturn_health_checks_total\{kind="(\w+)"\} (\S+)$', text)}

    async def test_local_and_unknown_headers_are_health_checks(self):
        line = await asyncio.to_thread(self.server.wait_for_log, r"\bmetrics-listening ")
        port = int(re.search(r"\bport=(\d+)", line).group(1))
        for header in (proxy_v2("192.0.2.1", local=True), b"PROXY UNKNOWN\r\n"):
            mark = len(self.server.lines)
            check = await self.connect(label="check")
            await check.send(header + encode(command("username", "haproxy-check")))
            await check.expect_welcome("Username set to: haproxy-check")
            await check.close()
            self.clients.remove(check)
            # The name is free again once the hub has let the check go.
            await asyncio.to_thread(self.server.wait_for_log,
                                    r" debug disconnect id=\d+ user=haproxy-check\b", start=mark)
        client = await self.via_proxy_client()
        self.assertEqual(await asyncio.to_thread(self.health_checks, port), {"proxy_local": 2, "probe": 0})
        # A client that has said nothing more is held back for the probe
        # window (test_health_check_logs), then logged as ever.
        await asyncio.to_thread(self.server.wait_for_log, r" info username id=\d+ user=real\b")
        at_info = [line for line in self.server.lines
                   if " info " in line and re.search(r" (connect|username|disconnect) ", line)]
        self.assertEqual(len(at_info), 2, at_info)  # the real client's only
        self.assertIn("peer=192.0.2.9:40000", at_info[0])
        self.assertIn("user=real", at_info[1])
        await client.close()

    async def via_proxy_client(self):
        client = await self.connect(label="real")
        await client.send(proxy_v1("192.0.2.9") + encode(command("username", "real")))
        await client.expect_welcome("Username set to: real")
        return client


class HeaderPhaseCounts(ServerTestCase):
    """Connections from a trusted proxy that have not sent their header yet hold
    descriptors: they count toward --max-connections and show in the metrics."""

    server_flags = ("--trusted-proxies", "127.0.0.1/32", "--max-connections", "3",
                    "--metrics", "127.0.0.1:0")

    def awaiting(self, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=DEFAULT_TIMEOUT) as reply:
            text = reply.read().decode()
        return int(float(re.search(r"(?m)^cturn_connections_awaiting_proxy_header (\S+)$", text).group(1)))

    async def test_stalled_headers_count_toward_the_limit(self):
        line = await asyncio.to_thread(self.server.wait_for_log, r"\bmetrics-listening ")
        port = int(re.search(r"\bport=(\d+)", line).group(1))
        alice = await self.connect(label="alice", source="127.0.0.2")  # direct, not proxied
        await alice.register("alice")
        stalled = [await self.connect(label=f"stalled{i}") for i in range(2)]
        for client in stalled:  # half a header, then nothing
            await client.send(b"PROXY TCP4 ")
        # The barrier: the server has accepted both once the gauge says so.
        deadline = asyncio.get_running_loop().time() + DEFAULT_TIMEOUT
        while await asyncio.to_thread(self.awaiting, port) != 2:
            self.assertLess(asyncio.get_running_loop().time(), deadline, "stalled headers not counted")
            await asyncio.sleep(0.05)
        # alice + two stalled headers = 3: the next one is turned away, proxied or not.
        for label, source, opening in (("direct", "127.0.0.2", b""),
                                       ("proxied", None, proxy_v1("192.0.2.7"))):
            with self.subTest(label):
                extra = await self.connect(label=label, source=source)
                if opening:
                    await extra.send(opening)
                await extra.expect_error("Server full")
                await extra.expect_closed()
                self.clients.remove(extra)
        # A stalled header that completes becomes a session, and the count moves over.
        await stalled[0].send(proxy_v1("192.0.2.8")[len(b"PROXY TCP4 "):] + encode(command("username", "bob")))
        await stalled[0].expect_welcome("Username set to: bob")
        self.assertEqual(await asyncio.to_thread(self.awaiting, port), 1)
        await alice.close()


if __name__ == "__main__":
    unittest.main()
