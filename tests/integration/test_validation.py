"""The validation table: each row, its exact error text, its precedence, and
that the connection stays open after every error (row 1 is in test_limits)."""

import unittest

from cturn_client import command, expect_quiet
from cturn_testcase import ServerTestCase

INVALID_JSON = [
    b"not json",
    b"{",
    b'{"type":"username","body":{"content":"alice"}',
    b"{'type':'username','body':{'content':'alice'}}",
    b'{"type":"username","body":{"content":"alice",}}',
    b'{"type":"username","body":{"content":"alice"}} x',
    b'{"type":"username","body":{"content":"alice"}}{}',
    b'{"type":"username","body":{"content":"a\x01b"}}',  # raw control char in a string
    b"[1,2",
    b"nul",
    # Not valid UTF-8: stray byte, overlong "/", UTF-16 surrogate, truncated sequence.
    b'{"type":"username","body":{"content":"\xff"}}',
    b'{"type":"username","body":{"content":"\xc0\xaf"}}',
    b'{"type":"username","body":{"content":"\xed\xa0\x80"}}',
    b'{"type":"username","body":{"content":"\xe2\x82"}}',
    b'{"type":"message","body":{"content":"hi","iv":"\xfe"}}',
    # Row 2 before row 3: invalid UTF-8 in a value that is not an object.
    b'["\xff"]',
    b'"\xff"',
]

INVALID_FORMAT = [
    b"[]",
    b'["username",{"content":"alice"}]',
    b'"username"',
    b"42",
    b"null",
    b"true",
    b"{}",
    b'{"body":{"content":"alice"}}',
    b'{"type":5,"body":{"content":"alice"}}',
    b'{"type":null,"body":{"content":"alice"}}',
    b'{"type":["username"],"body":{"content":"alice"}}',
    b'{"type":{"name":"username"},"body":{"content":"alice"}}',
    b'{"type":"username"}',
    b'{"type":"username","body":"alice"}',
    b'{"type":"username","body":null}',
    b'{"type":"username","body":["alice"]}',
    b'{"type":"username","body":5}',
    b'{"type":"leave"}',  # leave needs no content, but still a body object
    b'{"type":"leave","body":null}',
    # Row 3 before row 4: an unknown type with a bad envelope.
    b'{"type":"bogus"}',
    b'{"type":"bogus","body":"x"}',
]

INVALID_TYPE = [
    b'{"type":"bogus","body":{"content":"x"}}',
    b'{"type":"USERNAME","body":{"content":"alice"}}',
    b'{"type":"Username","body":{"content":"alice"}}',
    b'{"type":" username","body":{"content":"alice"}}',
    b'{"type":"","body":{"content":"alice"}}',
    b'{"type":"welcome","body":{"content":"x"}}',
    b'{"type":"error","body":{"content":"x"}}',
    b'{"type":"system","body":{"content":"x"}}',
    b'{"type":"pubkey","body":{"content":"x"}}',
    # Row 4 before row 5.
    b'{"type":"bogus","body":{}}',
    b'{"type":"bogus","body":{"content":5}}',
]

BAD_CONTENT_BODIES = [b"{}", b'{"content":null}', b'{"content":5}', b'{"content":true}',
                      b'{"content":[]}', b'{"content":["x"]}', b'{"content":{}}', b'{"content":""}',
                      b'{"pubkey":"k"}']
CONTENT_COMMANDS = ["username", "create", "join", "message"]
INVALID_CONTENT = [b'{"type":"%s","body":%s}' % (cmd.encode(), body)
                   for cmd in CONTENT_COMMANDS for body in BAD_CONTENT_BODIES]


class Validation(ServerTestCase):
    async def assert_errors(self, client, lines, error):
        for line in lines:
            await client.send(line + b"\n")
            try:
                await client.expect_error(error)
            except AssertionError as exc:
                raise AssertionError(f"after sending {line!r}: {exc}") from None
        await client.expect_nothing()

    async def test_row2_invalid_json_before_username(self):
        client = await self.connect()
        await self.assert_errors(client, INVALID_JSON, "Invalid JSON format")
        await client.register("alice")

    async def test_row2_invalid_json_after_username(self):
        alice = await self.user("alice")
        await alice.create("lobby")
        await self.assert_errors(alice, INVALID_JSON, "Invalid JSON format")
        await alice.leave()

    async def test_row3_invalid_message_format(self):
        client = await self.connect()
        await self.assert_errors(client, INVALID_FORMAT, "Invalid message format")
        await client.register("alice")
        await self.assert_errors(client, INVALID_FORMAT, "Invalid message format")
        await client.create("lobby")

    async def test_row4_invalid_message_type(self):
        client = await self.connect()
        # Before the username too: row 4 comes before row 6.
        await self.assert_errors(client, INVALID_TYPE, "Invalid message type")
        await client.register("alice")
        await self.assert_errors(client, INVALID_TYPE, "Invalid message type")
        await client.create("lobby")

    async def test_row5_invalid_content_before_username(self):
        client = await self.connect()
        # Row 5 comes before row 6, so no "You must set a username first" here.
        await self.assert_errors(client, INVALID_CONTENT, "Invalid message content")
        await client.register("alice")

    async def test_row5_invalid_content_after_username(self):
        alice = await self.user("alice")
        await self.assert_errors(alice, INVALID_CONTENT, "Invalid message content")
        await alice.create("lobby")
        await self.assert_errors(alice, INVALID_CONTENT, "Invalid message content")
        await alice.leave()

    async def test_row5_does_not_apply_to_leave(self):
        client = await self.connect()
        leaves = [b'{"type":"leave","body":%s}' % body for body in BAD_CONTENT_BODIES]
        await self.assert_errors(client, leaves, "You must set a username first")
        await client.register("alice")
        await self.assert_errors(client, leaves, "Not in any room")
        for body in BAD_CONTENT_BODIES:
            await client.create("lobby")
            await client.send(b'{"type":"leave","body":%s}\n' % body)
            await client.expect_welcome("Left room: lobby")
        await client.expect_nothing()

    async def test_row6_username_required_first(self):
        client = await self.connect()
        commands = [command("create", "lobby"), command("join", "lobby"), command("leave"),
                    command("leave", "lobby"), command("message", "hello"),
                    command("message", "hello", to="bob")]
        for frame in commands:
            await client.send(frame)
            await client.expect_error("You must set a username first")
        await client.expect_nothing()
        await client.register("alice")
        # None of the refused commands had an effect: the room was never created.
        await client.send(command("join", "lobby"))
        await client.expect_error("Room does not exist")

    async def test_errors_never_close_the_connection(self):
        client = await self.connect()
        lines = INVALID_JSON + INVALID_FORMAT + INVALID_TYPE + INVALID_CONTENT
        for line in lines:
            await client.send(line + b"\n")
        for _ in lines:
            await client.expect("error")
        await client.expect_nothing()
        await client.register("alice")
        await client.create("lobby")

    async def test_unknown_fields_are_ignored(self):
        alice = await self.connect()
        await alice.send(b'{"extra":1,"type":"username","sender":"x","body":{"content":"alice","to":"x","n":[1]}}\n')
        await alice.expect_welcome("Username set to: alice")
        await alice.send(b'{"type":"create","body":{"content":"lobby","extra":{"a":null}},"to":"nobody"}\n')
        await alice.expect_welcome("Created and joined room: lobby")
        await alice.expect_system("alice created the room")
        await alice.send(b'{"type":"leave","body":{"content":"whatever","x":1},"y":2}\n')
        await alice.expect_welcome("Left room: lobby")
        bob = await self.user("bob")
        await bob.create("other")
        await alice.send(b'{"body":{"content":"other","pubkey":5},"type":"join","z":true}\n')
        await alice.expect_welcome("Joined room: other")
        await bob.expect_system("alice joined the room")
        await expect_quiet(alice, bob)

    async def test_key_order_does_not_matter(self):
        alice = await self.connect()
        await alice.send(b'{"body":{"content":"alice"},"type":"username"}\n')
        await alice.expect_welcome("Username set to: alice")


if __name__ == "__main__":
    unittest.main()
