"""TLS on the client port (--tls-cert/--tls-key): beside plain TCP, reloaded on
SIGHUP and when its files change (--tls-watch), bounded handshakes and closes, --tls-required, and a server without
a certificate facing a TLS client. The protocol suites themselves run again
over TLS as tls.test_* (tests/CMakeLists.txt)."""

import asyncio
import os
import re
import shutil
import signal
import socket
import ssl
import tempfile
import time
import unittest
import urllib.request

import tls_material
from cturn_client import DEFAULT_TIMEOUT, TIMEOUT_SCALE, Client, command
from cturn_testcase import ServerTestCase
from server_process import ServerProcess


def client_hello():
    """The first flight of a real TLS client, as bytes."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context()
    connection = context.wrap_bio(incoming, outgoing, server_hostname=tls_material.HOSTNAME)
    try:
        connection.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def read_until_closed(sock, timeout):
    """Everything received until the server closes (EOF or reset)."""
    sock.settimeout(timeout)
    received = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


class TlsTestCase(ServerTestCase):
    """A server with a certificate of this test's own, in files the test may replace."""

    extra_flags = ()

    async def asyncSetUp(self):
        self.directory = tls_material.scratch_directory()
        self.cert_file, self.key_file = await asyncio.to_thread(
            tls_material.make_certificate, self.directory, self.id().rsplit(".", 1)[-1])
        self.first_cert = self.cert_file + ".first"
        shutil.copyfile(self.cert_file, self.first_cert)
        self.server_flags = ("--tls-cert", self.cert_file, "--tls-key", self.key_file,
                             *self.extra_flags)
        await super().asyncSetUp()

    def trusting(self, cafile):
        return tls_material.client_context(cafile)

    async def tls_user(self, name, cafile=None):
        client = await self.connect(label=name, tls=self.trusting(cafile or self.first_cert))
        await client.register(name)
        return client

    async def plain_user(self, name):
        client = await self.connect(label=name, tls=None)
        await client.register(name)
        return client

    async def replace_pair(self, name):
        """A new pair in the files the server was started with."""
        cert, key = await asyncio.to_thread(tls_material.make_certificate, self.directory, name)
        os.replace(cert, self.cert_file)
        os.replace(key, self.key_file)

    async def assert_new_pair_served(self, alice, line):
        """After a reload: new handshakes get the new certificate (the old
        one is no longer trusted), and `alice`, connected before it and in
        room lobby, chats on with a client that trusts the new one."""
        with self.assertRaises(ssl.SSLCertVerificationError):
            await Client.connect(self.server.host, self.server.port,
                                 tls=self.trusting(self.first_cert))
        bob = await self.tls_user("bob", cafile=self.cert_file)
        await bob.join("lobby")
        await alice.expect_system("bob joined the room")
        await alice.say(line)
        await bob.expect_message("alice", {"content": line})

    async def reload(self, expect):
        mark = len(self.server.lines)
        self.server._proc.send_signal(signal.SIGHUP)
        return await asyncio.to_thread(self.server.wait_for_log, expect, DEFAULT_TIMEOUT, mark)


class SamePort(TlsTestCase):
    async def test_tls_and_plain_clients_chat_on_one_port(self):
        alice = await self.tls_user("alice")
        bob = await self.plain_user("bob")
        await alice.create("lobby")
        await bob.join("lobby")
        await alice.expect_system("bob joined the room")
        await alice.say("over TLS")
        await bob.expect_message("alice", {"content": "over TLS"})
        await bob.say("in clear")
        await alice.expect_message("bob", {"content": "in clear"})
        await asyncio.to_thread(self.server.wait_for_log, r"\btls id=\d+ version=TLSv1\.3 ")

    async def test_tls_1_2_gets_an_ecdhe_aead_suite(self):
        context = self.trusting(self.first_cert)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        alice = await self.connect(label="alice", tls=context)
        await alice.register("alice")
        cipher = alice.writer.get_extra_info("cipher")
        self.assertEqual(cipher[1], "TLSv1.2")
        self.assertRegex(cipher[0], r"^ECDHE-ECDSA-(AES\d+-GCM|CHACHA20-POLY1305)")

    async def test_cbc_suites_are_refused(self):
        context = self.trusting(self.first_cert)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384")
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            await Client.connect(self.server.host, self.server.port, tls=context)
        await asyncio.to_thread(self.server.wait_for_log,
                                r"\btls-handshake-failed id=\d+ reason=protocol ")


class Chain(ServerTestCase):
    async def asyncSetUp(self):
        directory = tempfile.mkdtemp(dir=tls_material.scratch_directory())
        self.root, chain, key = await asyncio.to_thread(tls_material.make_chain, directory)
        self.server_flags = ("--tls-cert", chain, "--tls-key", key)
        await super().asyncSetUp()

    async def test_the_intermediate_of_a_chain_file_is_sent(self):
        # The client trusts the root only: the intermediate must come from the server.
        alice = await self.connect(label="alice", tls=tls_material.client_context(self.root))
        await alice.register("alice")


class Behind(TlsTestCase):
    extra_flags = ("--trusted-proxies", "127.0.0.1")

    async def test_a_client_hello_that_came_with_the_proxy_header(self):
        # The header and the whole first flight in one write: the server reads
        # them together, and OpenSSL must get the rest of what it read.
        sock = socket.create_connection((self.server.host, self.server.port))
        self.addCleanup(sock.close)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.trusting(self.first_cert).wrap_bio(incoming, outgoing,
                                                      server_hostname=tls_material.HOSTNAME)
        header = b"PROXY TCP4 192.0.2.7 127.0.0.1 40000 1337\r\n"

        def exchange():
            sock.settimeout(DEFAULT_TIMEOUT)
            pending = header
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    sock.sendall(pending + outgoing.read())
                    pending = b""
                    incoming.write(sock.recv(65536))
            tls.write(b'{"type":"username","body":{"content":"alice"}}\n')
            sock.sendall(outgoing.read())
            answer = b""
            while not answer.endswith(b"\n"):
                try:
                    answer += tls.read(4096)
                except ssl.SSLWantReadError:
                    incoming.write(sock.recv(65536))
            return answer

        answer = await asyncio.to_thread(exchange)
        self.assertRegex(answer, rb'^{"type":"welcome","body":{"content":"Username set to: alice","resume":"[0-9a-f]{32}"}}\n$')
        await asyncio.to_thread(self.server.wait_for_log, r"\bconnect id=\d+ peer=192\.0\.2\.7:40000 ")


class SlowReader(TlsTestCase):
    extra_flags = ("--rate-limit", "0", "--max-output-bytes", "0")

    async def test_output_that_outgrows_the_socket_buffers_arrives_whole_and_in_order(self):
        alice = await self.connect(label="alice", tls=self.trusting(self.first_cert),
                                   rcvbuf=4096)
        await alice.register("alice")
        await alice.create("lobby")
        bob = await self.plain_user("bob")
        await bob.join("lobby")
        await alice.expect_system("bob joined the room")
        alice.stop_reading()
        # Well past the largest send buffer the kernel gives a socket
        # (tcp_wmem's maximum): OpenSSL's writes must wait for the socket.
        with open("/proc/sys/net/ipv4/tcp_wmem") as limits:
            largest_send_buffer = int(limits.read().split()[2])
        size = 48 * 1024
        count = 2 * largest_send_buffer // size + 20
        for i in range(count):
            await bob.say(f"{i:06}" + "x" * (size - 6))
        alice.resume_reading()
        for i in range(count):
            frame = await alice.expect("message", sender="bob")
            self.assertEqual(frame.body["content"][:6], f"{i:06}")
        await alice.expect_nothing(after=[bob])


class Reload(TlsTestCase):
    # SIGHUP alone: no look at the files that could reload first.
    extra_flags = ("--tls-watch", "0")

    async def test_reload_serves_the_new_certificate_and_keeps_open_connections(self):
        alice = await self.tls_user("alice")
        await alice.create("lobby")
        await self.replace_pair("second")
        await self.reload(r"\btls-reloaded ")
        await self.assert_new_pair_served(alice, "still here")

    async def test_a_broken_pair_at_reload_keeps_the_old_one(self):
        alice = await self.tls_user("alice")
        # A key that belongs to another certificate.
        _, other_key = await asyncio.to_thread(tls_material.make_certificate, self.directory,
                                               "other")
        os.replace(other_key, self.key_file)
        line = await self.reload(r"\btls-reload-failed ")
        self.assertIn("does not match", line)
        # A certificate file that is no certificate.
        with open(self.cert_file, "w") as garbage:
            garbage.write("not a certificate\n")
        line = await self.reload(r"\btls-reload-failed ")
        self.assertIn("cannot load the certificate chain", line)
        bob = await self.tls_user("bob")  # still the first certificate
        await alice.create("lobby")
        await bob.join("lobby")
        await alice.expect_system("bob joined the room")


class WatchedFiles(TlsTestCase):
    """--tls-watch: a renewal that replaces the files is served without a
    signal, as a renewal tool that tells nobody leaves it."""

    extra_flags = ("--tls-watch", "1")

    async def wait_for(self, pattern, mark):
        return await asyncio.to_thread(self.server.wait_for_log, pattern, 5 * TIMEOUT_SCALE, mark)

    async def test_a_renewed_pair_is_served_without_a_signal(self):
        alice = await self.tls_user("alice")
        await alice.create("lobby")
        mark = len(self.server.lines)
        await self.replace_pair("renewed")
        await self.wait_for(r"\btls-reloaded ", mark)
        self.assertTrue(any(re.search(r"\breload cause=file-changed\b", line)
                            for line in self.server.lines[mark:]))
        await self.assert_new_pair_served(alice, "renewed under me")

    async def test_a_broken_file_is_tried_once_and_the_next_change_loads(self):
        alice = await self.tls_user("alice")
        mark = len(self.server.lines)
        with open(self.cert_file, "w") as half_written:
            half_written.write("-----BEGIN CERTIFICATE-----\n")
        line = await self.wait_for(r"\btls-reload-failed ", mark)
        self.assertIn("cannot load the certificate chain", line)
        # The same broken file is not tried again on every look.
        await asyncio.sleep(2.5)
        failures = [line for line in self.server.lines[mark:] if "tls-reload-failed" in line]
        self.assertEqual(len(failures), 1, failures)
        bob = await self.tls_user("bob")  # still the first certificate
        mark = len(self.server.lines)
        await self.replace_pair("fixed")
        await self.wait_for(r"\btls-reloaded ", mark)
        carol = await self.tls_user("carol", cafile=self.cert_file)
        await alice.create("lobby")
        await bob.join("lobby")
        await carol.join("lobby")
        await alice.expect_system("bob joined the room")
        await alice.expect_system("carol joined the room")


class Handshake(TlsTestCase):
    extra_flags = ("--username-timeout-ms", "400", "--metrics", "127.0.0.1:0")

    async def metrics(self):
        line = await asyncio.to_thread(self.server.wait_for_log, r"\bmetrics-listening ")
        port = int(re.search(r"\bport=(\d+)", line).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            return reply.read().decode()

    async def test_a_stalled_handshake_is_closed_by_the_username_deadline(self):
        hello = client_hello()
        sock = socket.create_connection((self.server.host, self.server.port))
        self.addCleanup(sock.close)
        sock.sendall(hello[:len(hello) // 2])  # then nothing
        started = time.monotonic()
        received = await asyncio.to_thread(read_until_closed, sock, 10 * TIMEOUT_SCALE)
        self.assertEqual(received, b"")
        self.assertLess(time.monotonic() - started, 3 * TIMEOUT_SCALE)
        await asyncio.to_thread(self.server.wait_for_log,
                                r"\btls-handshake-failed id=\d+ reason=timeout ")
        text = await self.metrics()
        self.assertIn('cturn_tls_handshake_failures_total{reason="timeout"} 1', text)

    async def test_metrics_count_transports_and_show_the_expiry(self):
        await self.tls_user("alice")
        await self.plain_user("bob")
        text = await self.metrics()
        self.assertIn('cturn_connections_by_transport_total{transport="tls"} 1', text)
        self.assertIn('cturn_connections_by_transport_total{transport="plain"} 1', text)
        expiry = float(re.search(r"^cturn_tls_certificate_expiry_timestamp_seconds (\S+)$",
                                 text, re.M).group(1))
        # make_certificate's certificates are good for 30 days.
        self.assertAlmostEqual(expiry, time.time() + 30 * 86400, delta=3600)


class Required(TlsTestCase):
    extra_flags = ("--tls-required",)

    async def test_a_plain_client_is_told_tls_is_required(self):
        plain = await self.connect(label="plain", tls=None)
        await plain.send(command("username", "alice"))
        await plain.expect_error("TLS required")
        await plain.expect_closed()
        alice = await self.tls_user("alice")
        await alice.create("lobby")


class CloseNotify(TlsTestCase):
    extra_flags = ("--shutdown-grace-ms", "20000")

    async def test_shutdown_does_not_wait_for_a_silent_tls_client(self):
        # A blocking TLS socket that never reads again and never closes.
        sock = self.trusting(self.first_cert).wrap_socket(
            socket.create_connection((self.server.host, self.server.port)),
            server_hostname=tls_material.HOSTNAME)
        self.addCleanup(sock.close)
        sock.sendall(b'{"type":"username","body":{"content":"alice"}}\n')
        await asyncio.to_thread(self.server.wait_for_log, r"\busername id=\d+ user=alice")
        started = time.monotonic()
        self.server.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(self.server.wait)
        self.assertEqual(code, 0)
        # The close_notify is answered or not within 1 s; the grace is 20 s.
        self.assertLess(time.monotonic() - started, 5 * TIMEOUT_SCALE)
        self.assertIsNotNone(
            re.search(r"disconnect id=\d+ user=alice ", self.server.log()), self.server.log())


class PlainOnly(ServerTestCase):
    async def test_a_tls_client_of_a_plain_server_gets_a_clean_close(self):
        sock = socket.create_connection((self.server.host, self.server.port))
        self.addCleanup(sock.close)
        sock.sendall(client_hello())
        received = await asyncio.to_thread(read_until_closed, sock, DEFAULT_TIMEOUT)
        self.assertEqual(received, b"", "no JSON error into the client's TLS stack")
        await asyncio.to_thread(self.server.wait_for_log,
                                r"\btls-handshake-failed id=\d+ reason=not_offered ")


class Startup(unittest.TestCase):
    def start(self, cert, key):
        server = ServerProcess(("--tls-cert", cert, "--tls-key", key))
        self.addCleanup(server.kill)
        with self.assertRaises(AssertionError):
            server.start()
        self.assertEqual(server.returncode, 2)
        return server.log()

    def test_a_key_that_does_not_match_exits_2(self):
        directory = tls_material.scratch_directory()
        cert, _ = tls_material.make_certificate(directory, "startup-a")
        _, key = tls_material.make_certificate(directory, "startup-b")
        self.assertRegex(self.start(cert, key), r"tls-unusable why=.*does not match")

    def test_a_missing_certificate_exits_2(self):
        directory = tls_material.scratch_directory()
        _, key = tls_material.make_certificate(directory, "startup-c")
        log = self.start(os.path.join(directory, "missing.crt"), key)
        self.assertRegex(log, r"tls-unusable why=.*cannot load the certificate chain")


if __name__ == "__main__":
    unittest.main()
