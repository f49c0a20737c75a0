"""Protocol probes (`cturn-server --check`, a load balancer's username check:
a username, its welcome, then close) leave no line at info: their `connect`,
`username` and `disconnect` are logged at debug and counted in
cturn_health_checks_total{kind="probe"}. A real session logs exactly what it
always did, at info and in order; a registered session that idles shows
within the probe window (2 s). Run on one node and on a cluster node
(cluster.test_health_check_logs)."""

import asyncio
import re
import subprocess
import unittest
import urllib.request

from cturn_client import DEFAULT_TIMEOUT, TIMEOUT_SCALE, command, encode
from cturn_testcase import ServerTestCase

CHATTER = re.compile(r" (connect|tls|username|resume|disconnect) ")
PROBE_WINDOW = 2.0  # session.cpp's probe_window


class ProbeLogs(ServerTestCase):
    """Shared steps (no tests of its own); the subclasses pick the log level."""

    async def asyncSetUp(self):
        await super().asyncSetUp()
        line = await asyncio.to_thread(self.server.wait_for_log, r"\bmetrics-listening ")
        self.metrics_port = int(re.search(r"\bport=(\d+)", line).group(1))

    def health_checks(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=DEFAULT_TIMEOUT) as reply:
            text = reply.read().decode()
        return {kind: int(float(value)) for kind, value
                in re.findall(r'(?m)^cturn_health_checks_total\{kind="(\w+)"\} (\S+)$', text)}

    def probes_counted(self):
        return self.health_checks()["probe"]

    async def wait_for_probes(self, count):
        deadline = asyncio.get_running_loop().time() + DEFAULT_TIMEOUT
        while (counted := await asyncio.to_thread(self.probes_counted)) != count:
            self.assertLess(counted, count)
            self.assertLess(asyncio.get_running_loop().time(), deadline,
                            f"{counted} probes counted, not {count}")
            await asyncio.sleep(0.05)

    async def check(self):
        """`cturn-server --check` against the first node's chat port."""
        checked = await asyncio.to_thread(
            subprocess.run,
            [self.server.binary, "--check", "--bind", "127.0.0.1", "--port", str(self.server.port)],
            capture_output=True, text=True, timeout=30 * TIMEOUT_SCALE)
        self.assertEqual(checked.returncode, 0, checked.stderr)

    async def raw_probe(self, name, reset=False):
        """A username, its welcome, then a close (or a reset); returns the client."""
        probe = await self.connect(label=name, node=self.server)
        await probe.send(encode(command("username", name)))
        await probe.expect_welcome(f"Username set to: {name}")
        if reset:
            probe.abort()
        else:
            await probe.close()
        self.clients.remove(probe)
        return probe

    async def real_session(self):
        """username, create, message, close; returns the client."""
        alice = await self.connect(label="alice", node=self.server)
        await alice.register("alice")
        await alice.create("lobby")
        await alice.say("hello")
        await alice.barrier()
        await alice.close()
        self.clients.remove(alice)
        await self.disconnect_handled(alice)
        return alice

    def lines_of(self, connection_id):
        return [line for line in self.server.lines if re.search(rf"\bid={connection_id}\b", line)]

    def connection_id(self, client):
        line = self.server.wait_for_log(rf"\bconnect id=\d+ peer=\S+:{client.local_port}(\s|$)",
                                        start=client.log_mark)
        return re.search(r"\bid=(\d+)", line).group(1)

    def assert_real_session_logged(self, alice):
        """connect, username, disconnect at info, in that order, as before."""
        connection = self.connection_id(alice)
        chatter = [line.split(" ", 1)[1] for line in self.lines_of(connection)
                   if CHATTER.search(line)]
        self.assertEqual(chatter, [
            f"info connect id={connection} peer=127.0.0.1:{alice.local_port}",
            f"info username id={connection} user=alice",
            f"info disconnect id={connection} user=alice reason=eof",
        ])


class ProbesAtInfo(ProbeLogs):
    server_flags = ("--metrics", "127.0.0.1:0", "--log-level", "info")

    async def test_probes_leave_no_line_and_a_session_its_usual_ones(self):
        await self.check()
        await self.raw_probe("probe-fin")
        await self.raw_probe("probe-rst", reset=True)
        # Counted when each ends, just before its lines would be logged.
        await self.wait_for_probes(3)
        alice = await self.real_session()
        self.assert_real_session_logged(alice)
        at_info = [line for line in self.server.lines if CHATTER.search(line)]
        self.assertEqual(len(at_info), 3, at_info)  # alice's, and no probe's
        self.assertEqual(await asyncio.to_thread(self.health_checks), {"probe": 3, "proxy_local": 0})


class ProbesAtDebug(ProbeLogs):
    server_flags = ("--metrics", "127.0.0.1:0", "--log-level", "debug")

    async def probe_lines_at_debug(self, probe, name):
        connection = await asyncio.to_thread(self.connection_id, probe)
        await asyncio.to_thread(self.server.wait_for_log,
                                rf" debug disconnect id={connection} user={name} ",
                                start=probe.log_mark)
        chatter = [line.split(" ", 2)[1:] for line in self.lines_of(connection)]
        self.assertEqual([(level, event.split(" ", 1)[0]) for level, event in chatter],
                         [("debug", "connect"), ("debug", "username"), ("debug", "disconnect")],
                         chatter)

    async def test_a_probe_logs_its_lines_at_debug_in_order(self):
        mark = len(self.server.lines)
        await self.check()
        line = await asyncio.to_thread(self.server.wait_for_log,
                                       r" debug disconnect id=\d+ user=cturn-probe-\d+ ", start=mark)
        connection = re.search(r"\bid=(\d+)", line).group(1)
        events = [entry.split(" ", 3)[1:3] for entry in self.lines_of(connection)]
        self.assertEqual(events, [["debug", "connect"], ["debug", "username"],
                                  ["debug", "disconnect"]])
        await self.probe_lines_at_debug(await self.raw_probe("probe-fin"), "probe-fin")
        await self.probe_lines_at_debug(await self.raw_probe("probe-rst", reset=True), "probe-rst")
        await self.wait_for_probes(3)
        self.assert_real_session_logged(await self.real_session())
        self.assertEqual(await asyncio.to_thread(self.probes_counted), 3)

    async def test_no_probe_when_it_says_more_or_is_refused(self):
        # Two usernames (the second refused): more than a probe says.
        twice = await self.connect(label="twice", node=self.server)
        await twice.register("bob")
        await twice.send(encode(command("username", "carol")))
        await twice.expect_error("Username already set")
        # A refused username, then close: an error, no welcome.
        holder = await self.connect(label="holder", node=self.server)
        await holder.register("dave")
        refused = await self.connect(label="refused", node=self.server)
        await refused.send(encode(command("username", "dave")))
        await refused.expect_error("Username already taken")
        for client in (twice, refused):
            await client.close()
            self.clients.remove(client)
        await self.disconnect_handled(twice, refused)
        for client in (twice, refused):
            connection = await asyncio.to_thread(self.connection_id, client)
            levels = {line.split(" ", 2)[1] for line in self.lines_of(connection)
                      if CHATTER.search(line)}
            self.assertEqual(levels, {"info"}, self.lines_of(connection))
        self.assertEqual(await asyncio.to_thread(self.probes_counted), 0)

    async def test_a_resume_is_no_probe_and_its_lines_follow_the_old_ones(self):
        # Both within the probe window: the old connection's lines are still
        # held when the resume takes its name, and come out first.
        old = await self.connect(label="old", node=self.server)
        await old.register("frank")
        back = await self.connect(label="back", node=self.server)
        await back.send(encode(command("username", "frank", resume=old.resume)))
        await back.expect_welcome("Username set to: frank")
        await old.expect_system("Session resumed elsewhere")
        await old.expect_closed()
        self.clients.remove(old)
        old_id = await asyncio.to_thread(self.connection_id, old)
        back_id = await asyncio.to_thread(self.connection_id, back)
        resumed = await asyncio.to_thread(self.server.wait_for_log,
                                          rf" info resume id={back_id} user=frank\b")
        lines = self.server.lines
        for line in self.lines_of(old_id):
            if CHATTER.search(line):
                self.assertIn(" info ", line)
                self.assertLess(lines.index(line), lines.index(resumed), line)
        events = [line.split(" ", 3)[1:3] for line in self.lines_of(back_id)]
        self.assertEqual(events[:2], [["info", "connect"], ["info", "resume"]])
        await back.close()
        self.clients.remove(back)
        await self.disconnect_handled(back)
        self.assertEqual(await asyncio.to_thread(self.probes_counted), 0)

    async def test_an_idle_session_shows_within_the_probe_window(self):
        started = asyncio.get_running_loop().time()
        erin = await self.connect(label="erin", node=self.server)
        await erin.register("erin")
        line = await asyncio.to_thread(self.server.wait_for_log, r" info username id=\d+ user=erin\b",
                                       (PROBE_WINDOW + 5) * TIMEOUT_SCALE, erin.log_mark)
        # Held no longer than the window (and its scheduling), while still open.
        self.assertLess(asyncio.get_running_loop().time() - started,
                        PROBE_WINDOW + 2 * TIMEOUT_SCALE, line)
        connection = await asyncio.to_thread(self.connection_id, erin)
        self.assertRegex(self.lines_of(connection)[0], rf" info connect id={connection} ")
        # Its close after the window is a session's, not a probe's.
        await erin.close()
        self.clients.remove(erin)
        await self.disconnect_handled(erin)
        self.assertRegex(self.lines_of(connection)[-1],
                         rf" info disconnect id={connection} user=erin reason=eof")
        self.assertEqual(await asyncio.to_thread(self.probes_counted), 0)


if __name__ == "__main__":
    unittest.main()
