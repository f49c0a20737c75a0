"""The `message` command: broadcast, byte-exact relay, directed `to`, ordering."""

import asyncio
import unittest

from cturn_client import command, expect_quiet, form_room
from cturn_testcase import ServerTestCase

RAW_BODIES = [
    # Odd spacing, key order, escapes and number spellings survive only if the
    # server copies the body's bytes instead of re-encoding it.
    b'{"content":"hello"}',
    b'{ "content" : "h\\u00e9llo\\n\\/" ,"encrypted":true,  "iv":"AAECAwQFBgcICQoLDA0ODw=="}',
    b'{"iv":[1,2.50,-0,1e3],"content":"x","nested":{"a":null,"b":{"c":[]}},"encrypted":false}',
    '{"content":"zoë € 😀 \u2028"}'.encode(),
    b'{"content":"\\ud83d\\ude00 escaped emoji","sender":"mallory","type":"system"}',
    b'{"content":" "}',
]


class Broadcast(ServerTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.alice, self.bob, self.carol = await self.users("alice", "bob", "carol")
        await form_room("lobby", self.alice, self.bob, self.carol)

    async def test_message_goes_to_every_other_member(self):
        await self.alice.send(command("message", "hello"))
        for member in (self.bob, self.carol):
            frame = await member.recv()
            self.assertEqual(frame, {"type": "message", "sender": "alice", "body": {"content": "hello"}})
        await expect_quiet(self.alice, self.bob, self.carol)

    async def test_body_is_relayed_byte_exactly(self):
        for raw in RAW_BODIES:
            await self.alice.send(b'{"type":"message","body":%s}\n' % raw)
            await self.bob.expect_message("alice", raw_body=raw)
            await self.carol.expect_message("alice", raw_body=raw)
        await self.alice.expect_nothing()

    async def test_body_is_relayed_when_it_is_not_the_last_field(self):
        raw = b'{"content" :"hi",  "iv":"x"}'
        await self.alice.send(b'{"body": %s , "type":"message"}\n' % raw)
        await self.bob.expect_message("alice", raw_body=raw)

    async def test_sender_cannot_be_spoofed(self):
        await self.alice.send(b'{"type":"message","sender":"mallory","body":{"content":"hi"}}\n')
        frame = await self.bob.expect_message("alice", {"content": "hi"})
        self.assertEqual(frame.raw.count(b'"sender"'), 1)

    async def test_large_body(self):
        content = "x" * 60000
        await self.alice.say(content, iv="abc")
        await self.bob.expect_message("alice", {"content": content, "iv": "abc"})
        await self.carol.expect_message("alice", {"content": content, "iv": "abc"})

    async def test_messages_from_one_sender_keep_their_order(self):
        await self.alice.send(*(command("message", str(i)) for i in range(100)))
        for i in range(100):
            await self.bob.expect_message("alice", {"content": str(i)})
            await self.carol.expect_message("alice", {"content": str(i)})
        await self.bob.expect_nothing(after=[self.alice])

    async def test_other_rooms_do_not_receive(self):
        dave, erin = await self.users("dave", "erin")
        await form_room("other", dave, erin)
        await self.alice.say("lobby only")
        await self.bob.expect_message("alice", {"content": "lobby only"})
        await self.carol.expect_message("alice", {"content": "lobby only"})
        await dave.say("other only")
        await erin.expect_message("dave", {"content": "other only"})
        await expect_quiet(self.alice, self.bob, self.carol, dave, erin)


class Directed(ServerTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.alice, self.bob, self.carol = await self.users("alice", "bob", "carol")
        await form_room("lobby", self.alice, self.bob, self.carol)

    async def test_only_the_named_member_receives(self):
        raw = b'{"content":"for bob","to":"bob","iv":"x"}'
        await self.alice.send(b'{"type":"message","body":%s}\n' % raw)
        await self.bob.expect_message("alice", raw_body=raw)
        await expect_quiet(self.alice, self.bob, self.carol)

    async def test_name_not_in_the_room_is_dropped_silently(self):
        dave = await self.user("dave")
        await dave.create("other")
        for to in ["nobody", "dave", "Bob", "bob ", ""]:
            await self.alice.say("lost", to=to)
        await self.bob.leave()
        await self.carol.expect_system("bob left the room")
        await self.alice.expect_system("bob left the room")
        await self.alice.say("lost", to="bob")  # the reference client keeps doing this
        # expect_quiet syncs alice first: nothing else shows her messages were handled.
        await expect_quiet(self.alice, self.bob, self.carol, dave)
        await self.alice.say("still works", to="carol")
        await self.carol.expect_message("alice", {"content": "still works", "to": "carol"})

    async def test_to_that_is_not_a_string(self):
        for value in [b"null", b"5", b"true", b"[]", b'["bob"]', b"{}", b'{"name":"bob"}']:
            await self.alice.send(b'{"type":"message","body":{"content":"x","to":%s}}\n' % value)
            try:
                await self.alice.expect_error("Invalid message content")
            except AssertionError as exc:
                raise AssertionError(f"to={value!r}: {exc}") from None
        await expect_quiet(self.alice, self.bob, self.carol)

    async def test_to_the_sender_echoes_to_the_sender_only(self):
        await self.alice.say("note to self", to="alice")
        await self.alice.expect_message("alice", {"content": "note to self", "to": "alice"})
        await expect_quiet(self.alice, self.bob, self.carol)

    async def test_one_directed_message_per_recipient(self):
        await self.alice.say("to bob", to="bob")
        await self.alice.say("to carol", to="carol")
        await self.bob.expect_message("alice", {"content": "to bob", "to": "bob"})
        await self.carol.expect_message("alice", {"content": "to carol", "to": "carol"})
        await expect_quiet(self.alice, self.bob, self.carol)


class NotInRoom(ServerTestCase):
    async def test_message_outside_a_room(self):
        alice, bob = await self.users("alice", "bob")
        await alice.say("hello")
        await alice.expect_error("You must join a room first")
        await alice.say("hello", to="bob")
        await alice.expect_error("You must join a room first")
        await form_room("lobby", alice, bob)
        await alice.leave()
        await bob.expect_system("alice left the room")
        await alice.say("hello")
        await alice.expect_error("You must join a room first")
        await expect_quiet(alice, bob)


class Ordering(ServerTestCase):
    async def test_every_member_sees_one_order(self):
        alice, bob, carol, dave, erin = await self.users("alice", "bob", "carol", "dave", "erin")
        await form_room("lobby", alice, bob, carol, dave)
        count = 100
        flood = [alice.send(*(command("message", f"a{i}") for i in range(count))),
                 bob.send(*(command("message", f"b{i}") for i in range(count))),
                 erin.send(command("join", "lobby"))]
        await asyncio.gather(*flood)
        await erin.expect_welcome("Joined room: lobby")

        async def events(client, n):
            return [(f.type, f.sender, f.content) for f in [await client.recv() for _ in range(n)]]

        seen_by_carol = await events(carol, 2 * count + 1)
        seen_by_dave = await events(dave, 2 * count + 1)
        self.assertEqual(seen_by_carol, seen_by_dave)
        joined = seen_by_carol.index(("system", None, "erin joined the room"))
        # Erin sees exactly what the room said after her join.
        self.assertEqual(await events(erin, 2 * count - joined), seen_by_carol[joined + 1:])
        # Senders see the others' frames in the same relative order.
        without = lambda name: [e for e in seen_by_carol if e[1] != name]
        self.assertEqual(await events(alice, count + 1), without("alice"))
        self.assertEqual(await events(bob, count + 1), without("bob"))
        for sender in ("alice", "bob"):
            contents = [e[2] for e in seen_by_carol if e[1] == sender]
            self.assertEqual(contents, [f"{sender[0]}{i}" for i in range(count)])
        await expect_quiet(alice, bob, carol, dave, erin)


if __name__ == "__main__":
    unittest.main()
