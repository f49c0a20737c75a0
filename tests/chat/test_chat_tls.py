"""scripts/chat --tls against the real server over TLS: the certificate checked
against --tls-ca or the system's CAs, and --tls-pin's trust on first use of
the server's public key, refused loudly when it changes."""

import asyncio
import json
import os
import re
import signal
import stat
import tempfile

import tls_material
from chat_process import ChatProcess, pattern
from cturn_testcase import ServerTestCase
from server_process import ServerProcess


class ChatOverTls(ServerTestCase):
    async def asyncSetUp(self):
        self.directory = tempfile.mkdtemp(dir=tls_material.scratch_directory())
        self.cert_file, self.key_file = await asyncio.to_thread(
            tls_material.make_certificate, self.directory, "server")
        self.ca_file = os.path.join(self.directory, "first.crt")
        with open(self.cert_file, "rb") as source, open(self.ca_file, "wb") as copy:
            copy.write(source.read())
        self.server_flags = ("--tls-cert", self.cert_file, "--tls-key", self.key_file,
                             "--tls-required")
        self.home = tempfile.TemporaryDirectory()
        self.addCleanup(self.home.cleanup)
        await super().asyncSetUp()

    def chat(self, name, *flags):
        process = ChatProcess(name, ["--port", str(self.server.port), "--username", name, *flags],
                              self.home.name)
        self.addCleanup(process.kill)
        return process

    async def expect(self, process, *patterns):
        return await asyncio.to_thread(process.expect_in_order, *patterns)

    async def exit_code(self, process):
        return await asyncio.to_thread(process.wait)

    @property
    def where(self):
        return f"{self.server.host}:{self.server.port}"

    async def test_the_certificate_is_checked_against_the_given_ca(self):
        alice = self.chat("alice", "--tls", "--tls-ca", self.ca_file)
        await self.expect(alice, f"Connected to {self.where} over TLS",
                          "[Server] Username set to: alice")
        alice.type("/quit")
        self.assertEqual(await self.exit_code(alice), 0)

    async def test_a_certificate_no_ca_vouches_for_is_refused(self):
        alice = self.chat("alice", "--tls")
        await self.expect(alice, pattern(f"[Error] No TLS with {self.where}: "))
        self.assertEqual(await self.exit_code(alice), 1)
        # Nothing reached the server beyond the handshake.
        self.assertFalse(any(re.search(r"\busername id=", line) for line in self.server.lines))

    async def test_pinned_on_first_use_and_refused_when_the_key_changes(self):
        first = self.chat("alice", "--tls", "--tls-pin")
        await self.expect(first, pattern(f"[TLS] Pinned the key of {self.where}: "),
                          f"Connected to {self.where} over TLS", "[Server] Username set to: alice")
        first.type("/quit")
        self.assertEqual(await self.exit_code(first), 0)
        pins = os.path.join(self.home.name, "cturn", "known_servers.json")
        self.assertEqual(stat.S_IMODE(os.stat(pins).st_mode), 0o600)
        with open(pins) as f:
            self.assertIn(self.where, json.load(f))

        again = self.chat("bob", "--tls", "--tls-pin")
        await self.expect(again, f"Connected to {self.where} over TLS",
                          "[Server] Username set to: bob")
        self.assertFalse(any("Pinned" in line for line in again.lines()))
        again.type("/quit")
        self.assertEqual(await self.exit_code(again), 0)

        # The server gets a new key (a reload, so the same address).
        cert, key = await asyncio.to_thread(tls_material.make_certificate, self.directory, "new")
        os.replace(cert, self.cert_file)
        os.replace(key, self.key_file)
        mark = len(self.server.lines)
        self.server._proc.send_signal(signal.SIGHUP)
        await asyncio.to_thread(self.server.wait_for_log, r"\btls-reloaded ", 5, mark)

        changed = self.chat("carol", "--tls", "--tls-pin")
        await self.expect(changed, pattern(f"THE TLS KEY OF {self.where} HAS CHANGED"),
                          pattern("[TLS] Pinned: "), pattern("[TLS] Presented: "),
                          pattern("--tls-repin"))
        self.assertEqual(await self.exit_code(changed), 1)

        accepted = self.chat("carol", "--tls", "--tls-repin")
        await self.expect(accepted, pattern(f"[TLS] Pinned the key of {self.where}: "),
                          "[Server] Username set to: carol")
        accepted.type("/quit")
        self.assertEqual(await self.exit_code(accepted), 0)

    async def restart_server(self):
        """Kill the server and start a new one on the same port (with the
        certificate and key files as they are now)."""
        port = self.server.port
        self.server.kill()
        server = ServerProcess(self.server_flags)
        server.args[server.args.index("--port") + 1] = str(port)
        self.addCleanup(server.kill)
        await asyncio.to_thread(server.start)
        self.server, self.nodes = server, [server]

    async def test_a_reconnect_checks_the_server_as_the_first_connection_did(self):
        # --tls-repin accepts a new key once, at start: never on a reconnect.
        alice = self.chat("alice", "--tls", "--tls-repin")
        await self.expect(alice, pattern(f"[TLS] Pinned the key of {self.where}: "),
                          "[Server] Username set to: alice")
        await self.restart_server()
        await self.expect(alice, pattern("[Offline] Connection lost"), "[Reconnected]")
        self.assertEqual(len([line for line in alice.lines() if "Pinned" in line]), 1)

        cert, key = await asyncio.to_thread(tls_material.make_certificate, self.directory, "new")
        os.replace(cert, self.cert_file)
        os.replace(key, self.key_file)
        await self.restart_server()
        await self.expect(alice, pattern("[Offline] Connection lost"),
                          pattern(f"THE TLS KEY OF {self.where} HAS CHANGED"),
                          "[Offline] Not reconnecting: the server is not the one trusted before.")
        self.assertEqual(await self.exit_code(alice), 1)
