"""Rooms: create, join and leave, their errors, and every frame each member gets."""

import asyncio
import unittest

from cturn_client import command, expect_quiet, form_room
from cturn_testcase import ServerTestCase


class Create(ServerTestCase):
    async def test_create_frames(self):
        alice = await self.user("alice")
        await alice.send(command("create", "lobby"))
        welcome = await alice.recv()
        system = await alice.recv()
        self.assertEqual(welcome, {"type": "welcome", "body": {"content": "Created and joined room: lobby"}})
        self.assertEqual(system, {"type": "system", "body": {"content": "alice created the room"}})
        await alice.expect_nothing()

    async def test_create_while_in_a_room(self):
        alice, bob = await self.users("alice", "bob")
        await alice.create("lobby")
        await bob.create("other")
        for room in ["lobby", "other", "new", "x" * 65, "bad\x01"]:
            await alice.send(command("create", room))
            await alice.expect_error("Leave current room first")
        await expect_quiet(alice, bob)

    async def test_room_already_exists(self):
        alice, bob = await self.users("alice", "bob")
        await alice.create("lobby")
        await bob.send(command("create", "lobby"))
        await bob.expect_error("Room already exists")
        await bob.send(command("create", "  lobby\t"))
        await bob.expect_error("Room already exists")
        await expect_quiet(alice, bob)
        await bob.create("Lobby")  # names are case-sensitive

    async def test_room_name_is_trimmed(self):
        alice, bob = await self.users("alice", "bob")
        await alice.send(command("create", " \t\n\v\f\rlobby \t\n\v\f\r"))
        await alice.expect_welcome("Created and joined room: lobby")
        await alice.expect_system("alice created the room")
        await bob.send(command("join", "\tlobby  "))
        await bob.expect_welcome("Joined room: lobby")
        await alice.expect_system("bob joined the room")

    async def test_room_name_length_is_64_bytes(self):
        alice = await self.user("alice")
        for name in ["r" * 65, "é" * 33, "ก" * 22, "\U00020000" * 16 + "r"]:
            await alice.send(command("create", name))
            await alice.expect_error("Invalid room name")
            await alice.send(command("join", name))
            await alice.expect_error("Invalid room name")
        for name in ["r" * 64, "é" * 32, "ก" * 21 + "r", "\U00020000" * 16, "  " + "t" * 64 + "  "]:
            await alice.create(name)
            await alice.leave()
        await alice.expect_nothing()

    async def test_room_name_with_control_characters(self):
        alice = await self.user("alice")
        for char in ["\x00", "\x01", "\t", "\n", "\x1f", "\x7f", "\x80", "\x85", "\x9f"]:
            for name in [f"lo{char}bby", f"lobby{char}x", f"x{char}lobby"]:
                await alice.send(command("create", name))
                await alice.expect_error("Invalid room name")
                await alice.send(command("join", name))
                await alice.expect_error("Invalid room name")
        await alice.expect_nothing()
        # NBSP is no control character, but no space but U+0020 may be in a
        # name (test_name_profile).
        await alice.send(command("create", "lobby\u00a0"))
        await alice.expect_error("Invalid room name")
        await alice.create("lobby")


class Join(ServerTestCase):
    async def test_join_frames(self):
        alice, bob, carol = await self.users("alice", "bob", "carol")
        await alice.create("lobby")
        await bob.send(command("join", "lobby"))
        self.assertEqual(await bob.recv(), {"type": "welcome", "body": {"content": "Joined room: lobby"}})
        self.assertEqual(await alice.recv(), {"type": "system", "body": {"content": "bob joined the room"}})
        await carol.join("lobby")
        await alice.expect_system("carol joined the room")
        await bob.expect_system("carol joined the room")
        await expect_quiet(alice, bob, carol)

    async def test_join_missing_room(self):
        alice = await self.user("alice")
        await alice.send(command("join", "nowhere"))
        await alice.expect_error("Room does not exist")
        await alice.create("Nowhere")
        await alice.leave()
        await alice.send(command("join", "nowhere"))
        await alice.expect_error("Room does not exist")

    async def test_invalid_name_comes_before_missing_room(self):
        alice = await self.user("alice")
        await alice.send(command("join", "x" * 65))
        await alice.expect_error("Invalid room name")

    async def test_join_while_in_a_room(self):
        alice, bob = await self.users("alice", "bob")
        await alice.create("lobby")
        await bob.create("other")
        for room in ["lobby", "other", "nowhere", "x" * 65]:
            await bob.send(command("join", room))
            await bob.expect_error("Leave current room first")
        await expect_quiet(alice, bob)

    async def test_members_of_other_rooms_see_nothing(self):
        alice, bob, carol = await self.users("alice", "bob", "carol")
        await alice.create("lobby")
        await carol.create("other")
        await bob.join("lobby")
        await alice.expect_system("bob joined the room")
        await bob.leave()
        await alice.expect_system("bob left the room")
        await carol.expect_nothing(after=[alice, bob])


class Leave(ServerTestCase):
    async def test_leave_frames(self):
        alice, bob, carol = await self.users("alice", "bob", "carol")
        await form_room("lobby", alice, bob, carol)
        await bob.send(command("leave"))
        self.assertEqual(await bob.recv(), {"type": "welcome", "body": {"content": "Left room: lobby"}})
        await alice.expect_system("bob left the room")
        await carol.expect_system("bob left the room")
        await expect_quiet(alice, bob, carol)

    async def test_leave_without_a_room(self):
        alice = await self.user("alice")
        await alice.send(command("leave"))
        await alice.expect_error("Not in any room")
        await alice.create("lobby")
        await alice.leave()
        await alice.send(command("leave"))
        await alice.expect_error("Not in any room")
        await alice.expect_nothing()

    async def test_leaver_gets_no_more_room_frames(self):
        alice, bob, carol = await self.users("alice", "bob", "carol")
        await form_room("lobby", alice, bob)
        await bob.leave()
        await alice.expect_system("bob left the room")
        await alice.say("after")
        await carol.join("lobby")
        await alice.expect_system("carol joined the room")
        await bob.expect_nothing(after=[alice])  # alice's message gets no reply

    async def test_can_join_another_room_after_leaving(self):
        alice, bob = await self.users("alice", "bob")
        await alice.create("one")
        await bob.create("two")
        await alice.leave()
        await alice.join("two")
        await bob.expect_system("alice joined the room")
        await alice.say("hi")
        await bob.expect_message("alice", {"content": "hi"})

    async def test_empty_room_is_deleted(self):
        alice, bob = await self.users("alice", "bob")
        await alice.create("lobby")
        await alice.leave()
        await bob.send(command("join", "lobby"))
        await bob.expect_error("Room does not exist")
        await bob.create("lobby")
        await alice.join("lobby")
        await bob.expect_system("alice joined the room")

    async def test_room_survives_while_a_member_remains(self):
        alice, bob, carol = await self.users("alice", "bob", "carol")
        await form_room("lobby", alice, bob)
        await alice.leave()  # the creator leaving does not delete it
        await bob.expect_system("alice left the room")
        await carol.send(command("create", "lobby"))
        await carol.expect_error("Room already exists")
        await carol.join("lobby")
        await bob.expect_system("carol joined the room")
        await bob.leave()
        await carol.expect_system("bob left the room")
        await carol.leave()
        await alice.create("lobby")


class Ordering(ServerTestCase):
    async def test_concurrent_joins_are_seen_in_one_order(self):
        alice, bob, carol = await self.users("alice", "bob", "carol")
        await alice.create("lobby")
        # Several members change the room at once; each observer must see one order.
        await asyncio.gather(bob.send(command("join", "lobby")), carol.send(command("join", "lobby")))
        await bob.expect_welcome("Joined room: lobby")
        await carol.expect_welcome("Joined room: lobby")
        first = await alice.expect("system")
        second = await alice.expect("system")
        joined_first, joined_second = first.content.split()[0], second.content.split()[0]
        self.assertEqual({first.content, second.content}, {"bob joined the room", "carol joined the room"})
        # The one who joined first saw the other join.
        early = bob if joined_first == "bob" else carol
        await early.expect_system(f"{joined_second} joined the room")
        await expect_quiet(alice, bob, carol)


if __name__ == "__main__":
    unittest.main()
