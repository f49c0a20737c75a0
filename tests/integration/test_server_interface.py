"""docs/server-interface.md: log format and secrecy, environment fallback, --check."""

import asyncio
import re
import socket
import subprocess
import unittest

from cturn_client import command, form_room
from cturn_testcase import ServerTestCase
from server_process import STOP_TIMEOUT

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) ([a-z][a-z-]*)( \S+=.*)?$")


def run_binary(server, *args):
    return subprocess.run([server.binary, *args], capture_output=True, text=True, timeout=STOP_TIMEOUT)


class Logging(ServerTestCase):
    server_flags = ("--log-level", "debug")

    async def test_logs_name_users_and_rooms_but_never_content_or_keys(self):
        secrets = ["SECRET-CONTENT-7f3a", "SECRET-KEY-91bc", "SECRET-IV-22d0", "SECRET-DIRECT-0c4e"]
        alice = await self.user("alice", pubkey=f"-----BEGIN PUBLIC KEY-----\n{secrets[1]}\n-----END PUBLIC KEY-----\n")
        bob = await self.user("bob")
        await form_room("lobby", alice, bob)
        await alice.say(secrets[0], iv=secrets[2])
        await bob.expect_message("alice", {"content": secrets[0], "iv": secrets[2]})
        await bob.say(secrets[3], to="alice")
        await alice.expect_message("bob", {"content": secrets[3], "to": "alice"})
        await bob.leave()
        await alice.expect_system("bob left the room")
        await asyncio.to_thread(self.server.stop)

        events = {}
        for line in self.server.lines:
            if "Sanitizer" in line:
                continue  # reported by stop() already
            match = LOG_LINE.match(line)
            self.assertIsNotNone(match, f"log line not in the documented format: {line!r}")
            events.setdefault(match.group(2), []).append(line)
            for secret in secrets:
                self.assertNotIn(secret, line, "message content or key in the log")
        for event in ["listening", "connect", "username", "room-created", "shutdown", "stopped"]:
            self.assertIn(event, events, f"no {event!r} event in the log")
        self.assertTrue(any("alice" in line for line in events["username"]), events["username"])
        self.assertTrue(any("lobby" in line for line in events["room-created"]), events["room-created"])


class EnvironmentFallback(ServerTestCase):
    server_env = {"CTURN_MAX_LINE_BYTES": "100"}

    async def test_limit_from_the_environment(self):
        alice = await self.connect()
        await alice.send(b"x" * 101)
        await alice.expect_error("Message too long")
        await alice.expect_closed()


class FlagOverridesEnvironment(ServerTestCase):
    server_env = {"CTURN_MAX_LINE_BYTES": "100"}
    server_flags = ("--max-line-bytes", "1000")

    async def test_flag_wins(self):
        alice = await self.connect()
        await alice.send(command("username", "alice", padding="p" * 500))
        await alice.expect_welcome("Username set to: alice")


class CommandLine(ServerTestCase):
    async def test_check_against_a_running_server(self):
        result = await asyncio.to_thread(run_binary, self.server, "--check", "--bind", self.server.host,
                                         "--port", str(self.server.port))
        self.assertEqual(result.returncode, 0, result.stderr)

    async def test_check_against_a_closed_port(self):
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        result = await asyncio.to_thread(run_binary, self.server, "--check", "--bind", "127.0.0.1",
                                         "--port", str(port))
        self.assertNotEqual(result.returncode, 0)

    async def test_help_and_version(self):
        for flag in ("--help", "--version"):
            result = await asyncio.to_thread(run_binary, self.server, flag)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(result.stdout.strip() or result.stderr.strip(), f"{flag} printed nothing")


if __name__ == "__main__":
    unittest.main()
