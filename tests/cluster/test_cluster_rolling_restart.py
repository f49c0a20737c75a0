"""A rolling restart of the cluster behind HAProxy keeps two scripts/chat
users in their room. Real processes: a redis-server, three nodes with
--resume-window 10 and --trusted-proxies 127.0.0.1/32, HAProxy configured
from docker/haproxy.cfg (tests/client/haproxy_process.py), and two
scripts/chat processes on pseudo-terminals connected to HAProxy.

Each node in turn is stopped gracefully (SIGTERM), HAProxy marks it down,
its users reconnect through HAProxy to another node and resume (one
`[Reconnected]` line), it is started again on its port and HAProxy marks it
up. After every step both users still talk both ways, a line typed while
reconnecting arrives, and neither saw the other leave, join or disconnect.
Every node is stopped once, so every user is moved at least once: asserted
from the nodes' logs (`username`/`resume ... user=NAME`)."""

import asyncio
import os
import re
import signal
import sys
import time
import unittest

# The chat driver of the chat tests (tests/chat), for real scripts/chat users.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chat"))

from chat_process import TIMEOUT, ChatUsers, pattern  # noqa: E402
from cturn_client import TIMEOUT_SCALE  # noqa: E402
from cturn_testcase import ServerTestCase  # noqa: E402
from haproxy_process import HaproxyProcess  # noqa: E402
from server_process import ServerProcess  # noqa: E402

NAMES = ("alice", "bob")
# inter 2s, fastinter 1s, fall 2, rise 2, timeout check 3s (docker/haproxy.cfg):
# a few seconds either way; generous for a loaded machine.
HAPROXY_STATE_TIMEOUT = 15.0 * TIMEOUT_SCALE
GONE_OR_BACK = re.compile(r"\[System\] (alice|bob) (disconnected|left the room|joined the room)")
WINDOW = 10.0
# The live nodes reap expired leases every 250 ms; then this test's own
# scheduling on a loaded machine.
PAST_THE_WINDOW = WINDOW + 0.25 + 1.5 * TIMEOUT_SCALE
HELD = re.compile(r"\b(?:username|resume) id=\d+ user=(alice|bob)\b")


class RollingRestart(ChatUsers, ServerTestCase):
    cluster_nodes = 3
    server_flags = ("--resume-window", str(int(WINDOW)), "--trusted-proxies", "127.0.0.1/32")

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.haproxy = HaproxyProcess([node.port for node in self.nodes])
        self.addCleanup(self.haproxy.cleanup)
        await asyncio.to_thread(self.haproxy.start)
        for index in range(len(self.nodes)):
            await self.haproxy_marks(index, "UP")

    def tearDown(self):
        if self.has_failed():
            print(self.haproxy.log(), file=sys.stderr)
            for name, chat in getattr(self, "chats", {}).items():
                print(f"---- {name}'s screen ----\n" + "\n".join(chat.lines()), file=sys.stderr)

    async def haproxy_marks(self, index, state):
        return await asyncio.to_thread(self.haproxy.wait_for_state, f"cturn{index + 1}", state,
                                       HAPROXY_STATE_TIMEOUT)

    def placement(self):
        """{name: node index} from the nodes' logs: the node that last
        granted the name (a node restarted since logs from scratch)."""
        where = {}
        for index, node in enumerate(self.nodes):
            for line in node.lines:
                if match := HELD.search(line):
                    where.setdefault(match.group(1), []).append(index)
        return {name: indexes[-1] for name, indexes in where.items()}

    async def node_holding(self, name, excluded, marks):
        """The node that resumed `name` after the log `marks`: not `excluded`."""
        resumed = re.compile(rf"\bresume id=\d+ user={name}\b")
        for _ in range(int(TIMEOUT / 0.05)):
            held = {index for index, node in enumerate(self.nodes) if index != excluded
                    and any(resumed.search(line) for line in node.lines[marks[index]:])}
            if held:
                return held.pop()
            await asyncio.sleep(0.05)
        raise AssertionError(f"no node logged the resume of {name}")

    async def restart(self, index):
        """SIGTERM to node `index`, then the same node again on its port."""
        node = self.nodes[index]
        self.last_stop = time.monotonic()
        node.send_signal(signal.SIGTERM)
        self.assertEqual(await asyncio.to_thread(node.wait), 0, node.log())
        await self.haproxy_marks(index, "DOWN")
        again = ServerProcess((*self.server_flags, "--redis", self.redis.address), env=self.server_env)
        again.args[again.args.index("--port") + 1] = str(node.port)
        self.addCleanup(again.kill)
        self.nodes[index] = again
        await asyncio.to_thread(again.start)
        await asyncio.to_thread(again.wait_for_log, r"\bcluster-ready node=")
        self.assertEqual(again.port, node.port)
        await self.haproxy_marks(index, "UP")

    async def talk(self, alice, bob, step):
        alice.type(f"ping {step}")
        await self.expect(bob, f"alice: ping {step}")
        bob.type(f"pong {step}")
        await self.expect(alice, f"bob: pong {step}")

    def assert_no_leave_or_join(self, formed):
        """Neither user saw the other go or come back since the room was
        `formed` ({name: its screen's line count then}), nor rejoined."""
        for name, chat in self.chats.items():
            seen = [line for line in chat.lines()[formed[name]:] if GONE_OR_BACK.fullmatch(line)]
            self.assertFalse(seen, f"{name} saw: {seen}")
            self.assertFalse([line for line in chat.lines() if "rejoined" in line], chat.lines())

    async def test_a_rolling_restart_keeps_both_users_in_their_room(self):
        alice, bob = await self.room_of_two(self.haproxy.port, self.haproxy.port)
        self.chats = {"alice": alice, "bob": bob}
        await self.talk(alice, bob, "before")
        formed = {name: len(chat.lines()) for name, chat in self.chats.items()}

        moves = {name: [] for name in NAMES}
        queued = 0
        for index in range(len(self.nodes)):
            before = self.placement()
            self.assertEqual(set(before), set(NAMES), before)
            movers = [name for name in NAMES if before[name] == index]
            # leastconn sends bob to a node without alice, and a mover to the
            # node that holds nobody: never both on the stopped node (whose
            # lines typed offline could reach no one until both are back).
            self.assertLessEqual(len(movers), 1, before)
            marks = [len(node.lines) for node in self.nodes]
            restarting = asyncio.create_task(self.restart(index))
            for name in movers:
                chat = self.chats[name]
                other = self.chats["bob" if name == "alice" else "alice"]
                await self.expect(chat, "[System] Server shutting down",
                                  pattern("[Offline] Connection lost"))
                # Typed at once: the first reconnect waits up to 0.5 s (full
                # jitter), so this is queued unless the client is very quick.
                chat.type(f"{name} typed while reconnecting {index}")
                await self.expect(chat, "[Reconnected]")
                await self.expect(other, f"{name}: {name} typed while reconnecting {index}")
                if any(line == f"[Offline] Queued, sent once reconnected: {name} typed while reconnecting {index}"
                       for line in chat.lines()):
                    queued += 1
                moves[name].append((index, await self.node_holding(name, index, marks)))
            await restarting
            await self.talk(alice, bob, f"after node {index + 1}")
            self.assert_no_leave_or_join(formed)
        # The names a stopped node parked are reaped when its window ends:
        # those resumed elsewhere are not announced then either.
        await asyncio.sleep(max(0.0, self.last_stop + PAST_THE_WINDOW - time.monotonic()))
        await self.talk(alice, bob, "past the window")
        self.assert_no_leave_or_join(formed)

        # Each node was stopped once, so each user was moved at least once,
        # from the stopped node to another one.
        for name in NAMES:
            self.assertTrue(moves[name], f"{name} never moved: {moves}")
            for origin, destination in moves[name]:
                self.assertNotEqual(origin, destination)
        self.assertGreater(queued, 0, "no line was typed while offline")
        print(f"\nmoves (from node, to node): {moves}; lines queued while offline: {queued}",
              file=sys.stderr)
        for chat in (alice, bob):
            self.assertFalse([line for line in chat.lines() if "[Warning]" in line], chat.lines())
            chat.type("/quit")
            self.assertEqual(await asyncio.to_thread(chat.wait), 0)


if __name__ == "__main__":
    unittest.main()
