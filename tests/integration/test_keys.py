"""Key exchange: `pubkey` frames when a client creates or joins a room."""

import unittest

from cturn_client import command, expect_quiet, form_room
from cturn_testcase import ServerTestCase


def pem(name):
    return f"-----BEGIN PUBLIC KEY-----\nKEY+OF/{name}==\n-----END PUBLIC KEY-----\n"


class KeyExchange(ServerTestCase):
    async def keyed(self, name):
        return await self.user(name, pubkey=pem(name))

    async def test_creator_alone_gets_no_keys(self):
        alice = await self.keyed("alice")
        await alice.create("lobby")
        await alice.expect_nothing()

    async def test_keys_flow_both_ways_on_join(self):
        alice, bob = await self.keyed("alice"), await self.keyed("bob")
        await alice.create("lobby")
        await bob.send(command("join", "lobby"))
        await bob.expect_welcome("Joined room: lobby")
        frame = await bob.recv()
        self.assertEqual(frame, {"type": "pubkey", "sender": "alice", "body": {"content": pem("alice")}})
        await alice.expect_system("bob joined the room")
        frame = await alice.recv()
        self.assertEqual(frame, {"type": "pubkey", "sender": "bob", "body": {"content": pem("bob")}})
        await expect_quiet(alice, bob)

    async def test_entrant_gets_every_keyed_member(self):
        alice, bob, carol = await self.keyed("alice"), await self.keyed("bob"), await self.keyed("carol")
        await form_room("lobby", alice, bob)
        await carol.join("lobby")
        await carol.expect_pubkeys({"alice": pem("alice"), "bob": pem("bob")})
        for member in (alice, bob):
            await member.expect_system("carol joined the room")
            await member.expect("pubkey", pem("carol"), sender="carol")
        await expect_quiet(alice, bob, carol)

    async def test_members_without_keys_are_skipped(self):
        alice = await self.user("alice")  # no key
        bob = await self.keyed("bob")
        carol = await self.user("carol")  # no key
        dave = await self.keyed("dave")
        await alice.create("lobby")
        await bob.join("lobby")
        await alice.expect_system("bob joined the room")
        await alice.expect("pubkey", pem("bob"), sender="bob")
        await bob.expect_nothing()  # alice has no key to send
        await carol.join("lobby")
        await carol.expect("pubkey", pem("bob"), sender="bob")
        for member in (alice, bob):
            await member.expect_system("carol joined the room")
        await dave.join("lobby")
        await dave.expect("pubkey", pem("bob"), sender="bob")
        for member in (alice, bob, carol):
            await member.expect_system("dave joined the room")
            await member.expect("pubkey", pem("dave"), sender="dave")
        await expect_quiet(alice, bob, carol, dave)

    async def test_keys_are_exchanged_again_after_rejoining(self):
        alice, bob = await self.keyed("alice"), await self.keyed("bob")
        await form_room("lobby", alice, bob)
        await bob.leave()
        await alice.expect_system("bob left the room")
        await bob.join("lobby")
        await bob.expect("pubkey", pem("alice"), sender="alice")
        await alice.expect_system("bob joined the room")
        await alice.expect("pubkey", pem("bob"), sender="bob")
        await expect_quiet(alice, bob)

    async def test_largest_key_is_relayed_intact(self):
        big = "-----BEGIN PUBLIC KEY-----\n" + "A" * 16000 + "\n-----END PUBLIC KEY-----\n"
        alice = await self.user("alice", pubkey=big)
        bob = await self.keyed("bob")
        await form_room("lobby", alice, bob)  # checks both keys byte for byte

    async def test_keys_do_not_cross_rooms(self):
        alice, bob, carol = await self.keyed("alice"), await self.keyed("bob"), await self.keyed("carol")
        await alice.create("one")
        await bob.create("two")
        await carol.join("two")
        await carol.expect("pubkey", pem("bob"), sender="bob")
        await bob.expect_system("carol joined the room")
        await bob.expect("pubkey", pem("carol"), sender="carol")
        await expect_quiet(alice, bob, carol)


if __name__ == "__main__":
    unittest.main()
