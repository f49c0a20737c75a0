"""The `username` command: trimming, length, control characters, uniqueness, pubkey."""

import unittest

from cturn_client import ASCII_WHITESPACE, command, form_room
from cturn_testcase import ServerTestCase

CONTROL_CHARACTERS = ["\x00", "\x01", "\t", "\n", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9f"]


class Username(ServerTestCase):
    async def assert_invalid(self, client, name, error="Invalid username"):
        await client.send(command("username", name))
        try:
            await client.expect_error(error)
        except AssertionError as exc:
            raise AssertionError(f"username {name!r}: {exc}") from None

    async def test_welcome(self):
        alice = await self.connect()
        await alice.send(command("username", "alice"))
        frame = await alice.expect_welcome("Username set to: alice")
        self.assertEqual(frame, {"type": "welcome", "body": {"content": "Username set to: alice"}})
        await alice.expect_nothing()

    async def test_surrounding_ascii_whitespace_is_trimmed(self):
        alice = await self.connect()
        await alice.send(command("username", " \t\n\v\f\ralice \t\n\v\f\r"))
        await alice.expect_welcome("Username set to: alice")
        # The trimmed name is the one that is taken.
        other = await self.connect()
        await other.send(command("username", "alice"))
        await other.expect_error("Username already taken")

    async def test_inner_space_is_kept_and_other_spaces_are_invalid(self):
        alice = await self.connect()
        await alice.send(command("username", "  alice smith  "))
        await alice.expect_welcome("Username set to: alice smith")
        # Not trimmed, and no space but U+0020 may be in a name (test_name_profile).
        bob = await self.connect()
        await self.assert_invalid(bob, "\u00a0bob\u3000")  # NBSP, ideographic space

    async def test_empty_after_trim(self):
        client = await self.connect()
        for name in [" ", "\t", " \t\n\v\f\r "]:
            await self.assert_invalid(client, name, "Username cannot be empty")
        await client.expect_nothing()
        await client.register("alice")

    async def test_length_limit_is_32_bytes(self):
        client = await self.connect()
        await self.assert_invalid(client, "a" * 33)
        await self.assert_invalid(client, "é" * 17)  # 17 characters, 34 bytes
        await self.assert_invalid(client, "ก" * 11)  # 11 characters, 33 bytes
        await self.assert_invalid(client, "\U00020000" * 8 + "a")  # 9 characters, 33 bytes
        await client.register("a" * 32)
        for name in ["é" * 16, "ก" * 10 + "ab", "\U00020000" * 8]:
            other = await self.connect()
            await other.register(name)

    async def test_length_is_checked_after_trimming(self):
        alice = await self.connect()
        await alice.register("   " + "b" * 32 + "\t\t")

    async def test_control_characters_are_invalid(self):
        client = await self.connect()
        for char in CONTROL_CHARACTERS:
            # Trimmable white space (\t, \n) is only a control character inside the name.
            edges = [] if char in ASCII_WHITESPACE else [f"alice{char}", f"{char}alice"]
            for name in [f"al{char}ice", *edges]:
                await self.assert_invalid(client, name)
        await client.expect_nothing()
        # U+00C0, the first letter after the C1 range (U+00A0-U+00BF are a space,
        # punctuation and symbols, outside the identifier class).
        await client.register("alice\u00c0")

    async def test_c1_control_as_json_escape(self):
        client = await self.connect()
        for escape in [b"\\u007f", b"\\u0080", b"\\u0085", b"\\u009f", b"\\u0000"]:
            await client.send(b'{"type":"username","body":{"content":"al%sice"}}\n' % escape)
            await client.expect_error("Invalid username")

    async def test_taken_is_exact_and_case_sensitive(self):
        await self.user("alice")
        bob = await self.connect()
        await bob.send(command("username", "alice"))
        await bob.expect_error("Username already taken")
        await bob.send(command("username", " alice "))
        await bob.expect_error("Username already taken")
        await bob.expect_nothing()
        await bob.register("Alice")
        carol = await self.connect()
        await carol.register("alice2")

    async def test_already_set_comes_first(self):
        alice = await self.user("alice")
        for name in ["bob", "alice", " ", "x" * 40, "a\x01"]:
            await self.assert_invalid(alice, name, "Username already set")
        await alice.send(command("username", "bob", pubkey=5))
        await alice.expect_error("Username already set")
        await alice.expect_nothing()
        # Still alice, and "bob" was never taken.
        bob = await self.user("bob")
        await form_room("lobby", alice, bob)

    async def test_name_is_freed_on_disconnect(self):
        alice = await self.user("alice")
        await alice.close()
        await self.register_when_free("alice")

    async def test_name_is_freed_on_abrupt_disconnect(self):
        alice = await self.user("alice")
        alice.abort()
        await self.register_when_free("alice")

    async def test_failed_attempt_does_not_take_the_name(self):
        client = await self.connect()
        await client.send(command("username", "alice", pubkey=5))
        await client.expect_error("Invalid public key")
        other = await self.connect()
        await other.register("alice")
        await client.register("bob")

    async def register_when_free(self, name):
        client = await self.connect()
        reply = await self.retry_while(client, command("username", name), "Username already taken")
        self.assertEqual(reply, {"type": "welcome", "body": {"content": f"Username set to: {name}"}})

class PublicKey(ServerTestCase):
    async def test_pubkey_is_accepted(self):
        alice = await self.connect()
        await alice.register("alice", pubkey="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        await alice.expect_nothing()

    async def test_pubkey_of_16_kib_is_accepted(self):
        alice = await self.connect()
        await alice.register("alice", pubkey="k" * 16384)

    async def test_pubkey_over_16_kib_is_refused(self):
        client = await self.connect()
        await client.send(command("username", "alice", pubkey="k" * 16385))
        await client.expect_error("Invalid public key")
        await client.send(command("username", "alice", pubkey="é" * 8193))  # 16386 bytes
        await client.expect_error("Invalid public key")
        await client.expect_nothing()
        await client.register("alice")

    async def test_pubkey_that_is_not_a_string_is_refused(self):
        client = await self.connect()
        for value in [5, True, False, None, [], ["k"], {}, {"pem": "k"}]:
            await client.send(command("username", "alice", pubkey=value))
            try:
                await client.expect_error("Invalid public key")
            except AssertionError as exc:
                raise AssertionError(f"pubkey {value!r}: {exc}") from None
        await client.expect_nothing()
        await client.register("alice")


if __name__ == "__main__":
    unittest.main()
