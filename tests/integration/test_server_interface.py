"""docs/server-interface.md: log format and secrecy, environment fallback, --check."""

import asyncio
import os
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

from cturn_client import command, form_room
from cturn_testcase import ServerTestCase
from server_process import STOP_TIMEOUT

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) ([a-z][a-z-]*)( \S+=.*)?$")


def run_binary(server, *args, env=None):
    """The binary with `args`, in the caller's environment less its CTURN_* plus `env`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CTURN_")}
    environment.update(env or {})
    return subprocess.run([server.binary, *args], capture_output=True, text=True, timeout=STOP_TIMEOUT,
                          env=environment)


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

    async def test_check_names_what_it_probed(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        result = await asyncio.to_thread(run_binary, self.server, "--check", "--bind", "127.0.0.1",
                                         "--port", str(port))
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(f"protocol probe (username) of 127.0.0.1:{port}", result.stderr)
        result = await asyncio.to_thread(run_binary, self.server, "--check", "--metrics", f"127.0.0.1:{port}")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(f"GET http://127.0.0.1:{port}/healthz", result.stderr)


class EnvironmentTraps(ServerTestCase):
    """Settings from the environment: what Compose files and env files produce."""

    server_env = {"CTURN_PROT": "4000", "CTURN_MAX_LINE_BYTES": "", "CTURN_METRICS": ""}

    async def test_empty_variables_mean_the_default_and_typos_are_warned_about(self):
        line = await asyncio.to_thread(self.server.wait_for_log, r"\bunknown-variable\b")
        self.assertIn("name=CTURN_PROT", line)
        self.assertIn("did_you_mean=CTURN_PORT", line)
        alice = await self.connect()  # the default line limit, not 0 or an error
        await alice.send(command("username", "alice", padding="p" * 1000))
        await alice.expect_welcome("Username set to: alice")

    async def test_bad_variable_names_itself_and_spares_help(self):
        broken = {"CTURN_PORT": "abc"}
        result = await asyncio.to_thread(run_binary, self.server, env=broken)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("CTURN_PORT", result.stderr)
        for flag in ("--help", "--version"):
            result = await asyncio.to_thread(run_binary, self.server, flag, env=broken)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(result.stdout.strip(), f"{flag} printed nothing")

    async def test_empty_variables_are_unset(self):
        empty = {name: "" for name in ("CTURN_METRICS", "CTURN_BIND", "CTURN_PORT", "CTURN_TRUSTED_PROXIES")}
        result = await asyncio.to_thread(run_binary, self.server, "--print-config", env=empty)
        self.assertEqual(result.returncode, 0, result.stderr)
        settings = {line.split()[0]: line.split() for line in result.stdout.splitlines()
                    if not line.startswith("#")}
        self.assertEqual(settings["port"][1:], ["default", "1337"])
        self.assertEqual(settings["bind"][1:], ["default", "0.0.0.0"])
        self.assertEqual(settings["metrics"][1:], ["default", '""'])

    async def test_print_config_says_where_each_setting_came_from(self):
        result = await asyncio.to_thread(
            run_binary, self.server, "--print-config", "--port", "4000",
            env={"CTURN_RATE_LIMIT": "50", "CTURN_REDIS_PASSWORD": "pw-7d1e", "CTURN_PROT": "1"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"(?m)^port +flag --port +4000$")
        self.assertRegex(result.stdout, r"(?m)^rate-limit +env CTURN_RATE_LIMIT +50$")
        self.assertRegex(result.stdout, r"(?m)^rate-burst +default +400$")
        self.assertRegex(result.stdout, r"(?m)^redis-password +env CTURN_REDIS_PASSWORD +\(set, not shown\)$")
        self.assertIn("CTURN_PROT", result.stdout)
        self.assertNotIn("pw-7d1e", result.stdout + result.stderr)

    async def test_bind_wants_an_address(self):
        result = await asyncio.to_thread(run_binary, self.server, "--bind", "localhost")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--bind wants an IP address", result.stderr)
        self.assertIn("localhost", result.stderr)


class Reload(ServerTestCase):
    async def test_sighup_keeps_the_server_and_its_clients(self):
        alice, bob = await self.users("alice", "bob")
        await form_room("lobby", alice, bob)
        mark = len(self.server.lines)
        for _ in range(2):
            self.server.send_reload()
            line = await asyncio.to_thread(self.server.wait_for_log, r"\breload\b", start=mark)
            mark = self.server.lines.index(line) + 1
        self.assertIn("reloaded=nothing", line)
        self.server.assert_alive()
        await alice.say("still here")
        await bob.expect_message("alice", {"content": "still here"})


class SystemdUnit(unittest.TestCase):
    """deploy/systemd/cturn-server.service, as systemd would load it (docs/systemd.md)."""

    UNIT = pathlib.Path(__file__).resolve().parents[2] / "deploy/systemd/cturn-server.service"

    def test_the_unit_file_verifies(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze (Debian package systemd) missing")
        binary = os.environ["CTURN_SERVER_BINARY"]
        text = self.UNIT.read_text()
        for wanted in ("DynamicUser=yes", "ProtectSystem=strict", "LimitNOFILE=",
                       "EnvironmentFile=-/etc/cturn/cturn.env", "ExecReload=/bin/kill -HUP $MAINPID"):
            self.assertIn(wanted, text)
        with tempfile.TemporaryDirectory() as directory:
            unit = pathlib.Path(directory) / "cturn-server.service"
            unit.write_text(text.replace("/usr/local/bin/cturn-server", binary))
            checked = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                                     text=True, timeout=60)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        self.assertEqual(checked.stdout + checked.stderr, "")


if __name__ == "__main__":
    unittest.main()
