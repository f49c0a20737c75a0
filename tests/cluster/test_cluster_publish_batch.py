"""Messages go to Redis in batches, one fenced script call for many, and the
fence still holds for each message on its own. Real processes: a
redis-server (watched with MONITOR) and two nodes.

The script's own rules are driven directly too, with the very script the
nodes loaded (its SHA read from MONITOR): a message whose sender a resume
moved to another node is skipped while the batch's others are published,
and a node whose lease is gone publishes nothing."""

import asyncio
import json
import re
import socket
import time

from cturn_client import TIMEOUT_SCALE, command
from cturn_testcase import ServerTestCase

BURST = 40
NODE_ID = re.compile(r"\bcluster-ready node=([0-9a-f]+)")


class Monitor:
    """Redis's MONITOR on a connection of its own: every command Redis runs,
    one line each (`+<time> [0 <client>] "EVALSHA" "<sha>" ...`)."""

    def __init__(self, redis):
        self.connection = socket.create_connection((redis.host, redis.port), timeout=5)
        self.connection.sendall(b"MONITOR\r\n")
        # Commands Redis runs before it answers are not shown: wait for it.
        self.buffer = b""
        while b"\r\n" not in self.buffer:
            chunk = self.connection.recv(65536)
            if not chunk:
                raise AssertionError("redis closed the MONITOR connection")
            self.buffer += chunk
        reply, self.buffer = self.buffer.split(b"\r\n", 1)
        if reply != b"+OK":
            raise AssertionError(f"MONITOR answered {reply!r}")
        self.lines = []

    def read_for(self, seconds):
        """What Redis ran in the next `seconds` (the nodes' leases are
        renewed all the time: the stream never pauses)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.connection.settimeout(left)
            try:
                chunk = self.connection.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\r\n")
        self.lines += [line.decode("utf-8", "backslashreplace") for line in complete]

    def close(self):
        self.connection.close()


def quoted_arguments(line):
    """The arguments MONITOR shows, unquoted enough to count and compare."""
    return [re.sub(r"\\(.)", r"\1", part) for part in re.findall(r'"((?:[^"\\]|\\.)*)"', line)]


def message_event(sender, content, to=None):
    """A message event as a node publishes it: `M \\n sender \\n frame` and
    `-` (the room) or `+recipient`."""
    frame = json.dumps({"type": "message", "sender": sender, "body": {"content": content}},
                       separators=(",", ":")) + "\n"
    return f"M\n{sender}\n{frame}" + (f"+{to}" if to else "-")


class PublishBatches(ServerTestCase):
    cluster_nodes = 2

    def node_id(self, index):
        for line in self.nodes[index].lines:
            if match := NODE_ID.search(line):
                return match.group(1)
        raise AssertionError(f"node {index} never logged cluster-ready")

    async def publish_calls(self, monitor, seconds):
        """The EVALSHA calls MONITOR saw: each a list of its arguments."""
        await asyncio.to_thread(monitor.read_for, seconds)
        return [quoted_arguments(line) for line in monitor.lines if '"EVALSHA"' in line]

    async def test_a_burst_goes_to_redis_in_few_calls_and_arrives_in_order(self):
        alice, bob = await self.lobby_across_nodes()
        monitor = await asyncio.to_thread(Monitor, self.redis)
        self.addCleanup(monitor.close)
        # One write: the node reads the burst at once, and its messages leave
        # in the same turn of its strand.
        await alice.send(*(command("message", f"m{n}", **({"to": "bob"} if n % 2 else {}))
                           for n in range(BURST)))
        for n in range(BURST):
            await bob.expect_message("alice", {"content": f"m{n}", **({"to": "bob"} if n % 2 else {})})
        calls = [call for call in await self.publish_calls(monitor, 0.3 * TIMEOUT_SCALE)
                 if len(call) > 4 and call[4] == "alice"]
        messages = [(len(call) - 4) // 4 for call in calls]
        self.assertEqual(sum(messages), BURST, calls)
        self.assertTrue(all((len(call) - 4) % 4 == 0 for call in calls), calls)
        # Not one call per message; how many the node gathered depends on how
        # the burst was read, but a single read of 40 short lines is one turn.
        self.assertLess(len(calls), BURST // 4, f"calls of {messages} messages")

    async def test_the_fence_holds_per_message_in_a_batch(self):
        alice, bob = await self.lobby_across_nodes()
        carol = await self.connect(label="carol", node=self.nodes[1])
        await carol.register("carol")
        # The SHA of the script the nodes loaded, from one real publish.
        monitor = await asyncio.to_thread(Monitor, self.redis)
        self.addCleanup(monitor.close)
        await alice.send(command("message", "first"))
        await bob.expect_message("alice", {"content": "first"})
        calls = await self.publish_calls(monitor, 0.3 * TIMEOUT_SCALE)
        self.assertTrue(calls, "no EVALSHA seen")
        sha = calls[0][1]
        node_a = self.node_id(0)

        # carol is node B's: from node A her message is "moved"; alice's on
        # either side of it are still published, in order, and the batch
        # ends with the error that tells node A.
        reply = await asyncio.to_thread(
            self.redis.command, "EVALSHA", sha, "0", node_a,
            "alice", "lobby", message_event("alice", "before"), "",
            "carol", "lobby", message_event("carol", "as carol"), "",
            "alice", "lobby", message_event("alice", "to bob", to="bob"), "bob",
            "alice", "lobby", message_event("alice", "after"), "")
        self.assertTrue(reply.startswith(b"-CTURN-NAME-MOVED"), reply)
        await bob.expect_message("alice", {"content": "before"})
        await bob.expect_message("alice", {"content": "to bob"})
        await bob.expect_message("alice", {"content": "after"})
        await bob.expect_nothing()

        # A node whose lease is gone (an id no node has) publishes nothing.
        reply = await asyncio.to_thread(
            self.redis.command, "EVALSHA", sha, "0", "0123456789abcdef",
            "alice", "lobby", message_event("alice", "from a dead node"), "")
        self.assertTrue(reply.startswith(b"-CTURN-LEASE-LOST"), reply)
        await bob.expect_nothing()
        # The nodes themselves are untouched: both still serve.
        await alice.send(command("message", "still here"))
        await bob.expect_message("alice", {"content": "still here"})
