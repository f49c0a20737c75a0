"""Directed messages travel only to their recipient's node (on that node's
own channel), and still keep their place in the room's one order; payloads
on the nodes' channels that are not the nodes' own events never reach a
client. Real processes: a redis-server and three nodes."""

import asyncio
import json
import random
import re
import urllib.request

from cturn_client import DEFAULT_TIMEOUT, TIMEOUT_SCALE, command, form_room
from cturn_testcase import ServerTestCase

ROOM = "order"
MEMBERS_PER_NODE = 2
MESSAGES_PER_MEMBER = 60
CHURNERS_PER_NODE = 4


def frame_key(frame):
    """What identifies a frame in the room's one order: every message carries
    a unique id, every churner's name is used once."""
    if frame.type == "message":
        return ("message", frame.body["content"])
    return (frame.type, frame.content)


def find_cycle(sequences):
    """A cycle in the precedence graph that the sequences imply, or None:
    None means one global order agrees with every sequence."""
    successors = {}
    for sequence in sequences:
        for earlier, later in sequence:
            successors.setdefault(earlier, set()).add(later)
            successors.setdefault(later, set())
    state = {}
    for start in successors:
        if start in state:
            continue
        stack = [(start, iter(successors[start]))]
        state[start] = "open"
        path = [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = "done"
            elif state.get(child) == "open":
                return path[path.index(child):] + [child]
            elif child not in state:
                state[child] = "open"
                stack.append((child, iter(successors[child])))
                path.append(child)
    return None


class Member:
    """A member of the room that records, in the order it happened here, what
    it received and what it sent."""

    def __init__(self, client):
        self.client = client
        self.name = client.name
        self.history = []  # ("got", key) and ("sent", key), in local order
        self.received = []

    def precedence(self):
        """What this member's history says about the global order: what it
        received came in that order; what it had received before it sent
        something was published before it; what it sent was published in
        the order it sent it (one connection, one node, commands in order).
        Something received after a send says nothing about that send."""
        pairs = []
        last_got = None
        last_sent = None
        for what, key in self.history:
            if what == "got":
                if last_got is not None:
                    pairs.append((last_got, key))
                last_got = key
            else:
                if last_got is not None:
                    pairs.append((last_got, key))
                if last_sent is not None:
                    pairs.append((last_sent, key))
                last_sent = key
        return pairs


class Routing(ServerTestCase):
    cluster_nodes = 3

    async def test_directed_messages_keep_the_rooms_one_order_across_nodes(self):
        members = []
        for index in range(len(self.nodes) * MEMBERS_PER_NODE):
            client = await self.connect(label=f"m{index}", node=self.nodes[index % 3])
            await client.register(f"m{index}")
            members.append(client)
        await form_room(ROOM, *members)
        recorded = [Member(client) for client in members]
        rng = random.Random(24)
        done_names = {member.name for member in recorded}
        churner_names = []

        async def read(member):
            finished = set()
            while finished != done_names:
                frame = await member.client.recv(timeout=30 * TIMEOUT_SCALE)
                key = frame_key(frame)
                member.history.append(("got", key))
                member.received.append(frame)
                if frame.type == "message" and frame.body["content"].startswith("done"):
                    finished.add(frame.sender)

        sent = {}  # content -> its recipient, None for the room
        churned = asyncio.Event()

        async def speak(member, seed):
            local = random.Random(seed)
            others = [other.name for other in recorded if other is not member]
            for number in range(MESSAGES_PER_MEMBER):
                content = f"{member.name}#{number}"
                to = local.choice(others) if local.random() < 0.6 else None
                sent[content] = to
                member.history.append(("sent", ("message", content)))
                await member.client.say(content, to=to)
                if local.random() < 0.3:
                    await asyncio.sleep(local.random() * 0.005)
            # Every churner's entry and exit is published before any `done`.
            await churned.wait()
            # To the others, and to itself, so that its own reader ends too
            # (two messages, two names: one key per publish).
            member.history.append(("sent", ("message", f"done {member.name}")))
            await member.client.say(f"done {member.name}")
            member.history.append(("sent", ("message", f"done-self {member.name}")))
            await member.client.say(f"done-self {member.name}", to=member.name)

        async def until_welcome(client, text):
            while True:
                frame = await client.recv()
                if frame.type == "welcome":
                    self.assertEqual(frame.content, text)
                    return

        async def churn(node_index):
            node = self.nodes[node_index]
            for turn in range(CHURNERS_PER_NODE):
                name = f"c{node_index}x{turn}"
                churner_names.append((name, turn % 2 == 0))
                client = await self.connect(label=name, node=node)
                await client.register(name)
                await client.join(ROOM)
                await asyncio.sleep(rng.random() * 0.01)
                if turn % 2 == 0:
                    await client.send(command("leave"))
                    await until_welcome(client, f"Left room: {ROOM}")
                    await client.close()
                else:
                    # `disconnected`, announced by the node.
                    client.abort()
                    await self.disconnect_handled(client)

        async def all_churn():
            await asyncio.gather(*(churn(index) for index in range(3)))
            churned.set()

        readers = [asyncio.create_task(read(member)) for member in recorded]
        await asyncio.gather(all_churn(), *(speak(member, 100 + index)
                                            for index, member in enumerate(recorded)))
        await asyncio.wait_for(asyncio.gather(*readers), 60 * TIMEOUT_SCALE)

        # One global order agrees with every member's history.
        cycle = find_cycle(member.precedence() for member in recorded)
        self.assertIsNone(cycle, f"no one order fits what the members saw: {cycle}")

        # Nothing lost, duplicated or misdelivered.
        for member in recorded:
            got = [frame_key(frame) for frame in member.received]
            self.assertEqual(len(got), len(set(got)), f"{member.name} got a frame twice")
            for name, left in churner_names:
                self.assertIn(("system", f"{name} joined the room"), got)
                exit_text = f"{name} left the room" if left else f"{name} disconnected"
                self.assertIn(("system", exit_text), got)
            contents = {frame.body["content"] for frame in member.received
                        if frame.type == "message"}
            for content, to in sent.items():
                sender = content.split("#")[0]
                expected = (to == member.name) if to is not None else sender != member.name
                self.assertEqual(content in contents, expected,
                                 f"{content} (to {to}) at {member.name}")


def message_frame(sender, body):
    """A message frame as the nodes encode it."""
    return (json.dumps({"type": "message", "sender": sender, "body": body},
                       separators=(",", ":"), ensure_ascii=False) + "\n")


class ForeignPayloads(ServerTestCase):
    cluster_nodes = 2
    server_flags = ("--metrics", "127.0.0.1:0")

    def foreign_events(self, node):
        line = node.wait_for_log(r"\bmetrics-listening ")
        port = int(re.search(r"\bport=(\d+)", line).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                    timeout=DEFAULT_TIMEOUT) as response:
            text = response.read().decode()
        return int(re.search(r"^cturn_cluster_foreign_events_total (\d+)$", text, re.M).group(1))

    async def test_payloads_that_are_not_the_nodes_events_never_reach_a_client(self):
        alice, bob = await self.lobby_across_nodes()
        node_id = re.search(r"\bnode=(\S+)",
                            self.nodes[0].wait_for_log(r"\bcluster-ready node=")).group(1)
        room_channel = "cturn:room-channel:lobby"
        on_room = [
            "\x1b[2J\x1b[31mPWNED\x07",                        # not even an event
            "M\ncarol\n\x1b[2Jhello\n-",                        # raw bytes as the frame
            "M\ncarol\n" + message_frame("carol", "x")[:-2] + "\n-",  # broken JSON
            "M\ncarol\n" + message_frame("mallory", {"c": 1}) + "-",  # another sender
            'M\ncarol\n{"type":"message","sender":"carol","body":"\x1b[2J"}\n-',
        ]
        on_node = [
            "lobby\nM\ncarol\n" + message_frame("carol", {"c": 1}) + "-",  # not directed
            "lobby\nJ\ncarol\n\n",                                  # a room event
        ]
        before = [await asyncio.to_thread(self.foreign_events, node) for node in self.nodes]
        for payload in on_room:
            self.assertIn(b":2\r\n", await asyncio.to_thread(
                self.redis.command, "PUBLISH", room_channel, payload))
        for payload in on_node:
            self.assertIn(b":1\r\n", await asyncio.to_thread(
                self.redis.command, "PUBLISH", f"cturn:node-channel:{node_id}", payload))
        await alice.expect_nothing()
        await bob.expect_nothing()
        after = [await asyncio.to_thread(self.foreign_events, node) for node in self.nodes]
        self.assertEqual(after[0] - before[0], len(on_room) + len(on_node))
        self.assertEqual(after[1] - before[1], len(on_room))
        for node in self.nodes:
            await asyncio.to_thread(node.wait_for_log, r"\bcluster-bad-event\b")

        # The limit, stated in docs/cluster.md: an event that is well formed
        # in every byte cannot be told from a node's own without
        # authenticating Redis's clients (the ACL of the Compose deployment).
        await asyncio.to_thread(self.redis.command, "PUBLISH", room_channel,
                                "M\ncarol\n" + message_frame("carol", {"c": 1}) + "-")
        await alice.expect_message("carol", {"c": 1})
        await bob.expect_message("carol", {"c": 1})
