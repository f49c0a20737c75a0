"""Resume: a `username` with the token of the last welcome takes the name
back, with its room, even while the old connection still holds it (see
docs/protocol.md, "Resume"). Against a cluster (CTURN_TEST_CLUSTER) each
client of a test is on the next node, so every resume here crosses nodes."""

import asyncio
import unittest

from cturn_client import command, expect_quiet, form_room
from cturn_testcase import ServerTestCase


def pem(name, version=1):
    return f"-----BEGIN PUBLIC KEY-----\nKEY+OF/{name}/{version}==\n-----END PUBLIC KEY-----\n"


class Resume(ServerTestCase):
    async def keyed(self, name):
        return await self.user(name, pubkey=pem(name))

    async def resume(self, name, token, pubkey=None):
        """A new connection that sends `username` with `token`; nothing read yet."""
        client = await self.connect(label=f"{name}'")
        extra = {} if pubkey is None else {"pubkey": pubkey}
        await client.send(command("username", name, resume=token, **extra))
        return client

    async def resumed(self, name, token, pubkey=None):
        """As resume(), and the welcome (with a new token) has come."""
        client = await self.resume(name, token, pubkey)
        welcome = await client.expect_welcome(f"Username set to: {name}")
        self.assertIsNotNone(welcome.resume)
        self.assertNotEqual(welcome.resume, token)
        client.name, client.pubkey, client.resume = name, pubkey, welcome.resume
        return client

    async def lobby(self):
        """Alice and bob, keyed, in `lobby`."""
        alice, bob = await self.keyed("alice"), await self.keyed("bob")
        await form_room("lobby", alice, bob)
        return alice, bob

    async def test_every_username_welcome_has_its_own_token(self):
        alice, bob = await self.users("alice", "bob")
        self.assertRegex(alice.resume, "^[0-9a-f]{32}$")
        self.assertNotEqual(alice.resume, bob.resume)

    async def test_resume_while_the_old_connection_is_open(self):
        alice, bob = await self.lobby()
        back = await self.resumed("alice", alice.resume, pubkey=pem("alice"))
        await back.expect_welcome("Joined room: lobby")
        await back.expect("pubkey", pem("bob"), sender="bob")
        # The old connection is told, then closed; the room hears nothing.
        await alice.expect_system("Session resumed elsewhere")
        await alice.expect_closed()
        await expect_quiet(back, bob)
        # The conversation goes on, both ways, broadcast and directed.
        await back.say("still here")
        await bob.expect_message("alice", {"content": "still here"})
        await bob.say("welcome back", to="alice")
        await back.expect_message("bob", {"content": "welcome back", "to": "alice"})
        # Alice is a member: leaving is announced as usual.
        back.room = "lobby"
        await back.leave()
        await bob.expect_system("alice left the room")
        await expect_quiet(back, bob)

    async def test_a_changed_key_is_sent_to_the_room(self):
        alice, bob = await self.lobby()
        back = await self.resumed("alice", alice.resume, pubkey=pem("alice", 2))
        await back.expect_welcome("Joined room: lobby")
        await back.expect("pubkey", pem("bob"), sender="bob")
        await bob.expect("pubkey", pem("alice", 2), sender="alice")
        await alice.expect_system("Session resumed elsewhere")
        await expect_quiet(back, bob)
        # A newcomer gets the new key.
        carol = await self.user("carol")
        await carol.join("lobby")
        await carol.expect_pubkeys({"alice": pem("alice", 2), "bob": pem("bob")})

    async def test_a_resume_without_a_key_keeps_the_old_one(self):
        alice, bob = await self.lobby()
        back = await self.resumed("alice", alice.resume)
        await back.expect_welcome("Joined room: lobby")
        await back.expect("pubkey", pem("bob"), sender="bob")
        await expect_quiet(back, bob)
        carol = await self.user("carol")
        await carol.join("lobby")
        await carol.expect_pubkeys({"alice": pem("alice"), "bob": pem("bob")})

    async def test_a_wrong_token_is_username_taken(self):
        alice, bob = await self.lobby()
        wrong = ("0" if alice.resume[0] != "0" else "1") + alice.resume[1:]
        for token in (wrong, bob.resume, "not a token", 42, None):
            other = await self.resume("alice", token)
            await other.expect_error("Username already taken")
            await expect_quiet(other, alice, bob)

    async def test_a_used_token_is_username_taken(self):
        alice, bob = await self.lobby()
        used = alice.resume
        back = await self.resumed("alice", used, pubkey=pem("alice"))
        await back.expect_welcome("Joined room: lobby")
        await back.expect("pubkey", pem("bob"), sender="bob")
        again = await self.resume("alice", used)
        await again.expect_error("Username already taken")
        await expect_quiet(again, back, bob)
        # The new token works.
        third = await self.resumed("alice", back.resume)
        await third.expect_welcome("Joined room: lobby")
        await back.expect_system("Session resumed elsewhere")
        await back.expect_closed()

    async def test_resume_after_the_old_connection_closed_is_a_fresh_registration(self):
        alice, bob = await self.lobby()
        await alice.close()
        await bob.expect_system("alice disconnected")
        # Bob heard of it, so the name is free: a fresh registration.
        back = await self.resumed("alice", alice.resume)
        # Not in the room: the disconnect was announced, so this is a new session.
        await back.say("hello?")
        await back.expect_error("You must join a room first")
        await expect_quiet(back, bob)

    async def test_a_resumer_in_no_room(self):
        alice = await self.user("alice")
        back = await self.resumed("alice", alice.resume)
        await alice.expect_system("Session resumed elsewhere")
        await alice.expect_closed()
        await back.expect_nothing()

    async def test_the_usual_checks_come_first(self):
        alice, bob = await self.lobby()
        # A registered connection cannot take another name, token or not.
        await bob.send(command("username", "alice", resume=alice.resume))
        await bob.expect_error("Username already set")
        # An invalid name is invalid whatever the token.
        other = await self.resume("al\u0001ice", alice.resume)
        await other.expect_error("Invalid username")
        await expect_quiet(other, alice, bob)
        # The right token with an invalid key: the path without a token.
        await other.send(command("username", "alice", resume=alice.resume, pubkey=42))
        await other.expect_error("Username already taken")
        await expect_quiet(other, alice, bob)
        # The name is trimmed first.
        await other.send(command("username", " alice\t", resume=alice.resume))
        welcome = await other.expect_welcome("Username set to: alice")
        self.assertIsNotNone(welcome.resume)
        await alice.expect_system("Session resumed elsewhere")

    async def test_tokens_are_not_logged(self):
        alice, bob = await self.lobby()
        tokens = [alice.resume, bob.resume]
        back = await self.resumed("alice", alice.resume)
        tokens.append(back.resume)
        await back.expect_welcome("Joined room: lobby")
        await back.expect("pubkey", pem("bob"), sender="bob")
        await alice.expect_system("Session resumed elsewhere")
        await alice.expect_closed()
        await bob.say("bye")
        await back.expect_message("bob", {"content": "bye"})
        await bob.close()
        await self.disconnect_handled(bob)
        await asyncio.to_thread(back.node.wait_for_log, r"\bresume id=\d+ user=alice\b")
        for node in self.nodes:
            for line in list(node.lines):
                for token in tokens:
                    self.assertNotIn(token, line)


if __name__ == "__main__":
    unittest.main()
