"""Disconnects: the room hears `<user> disconnected`, rooms and names are freed."""

import unittest

from cturn_client import command, expect_quiet, form_room
from cturn_testcase import ServerTestCase


class Disconnect(ServerTestCase):
    async def three_in_lobby(self):
        alice, bob, carol = await self.users("alice", "bob", "carol")
        await form_room("lobby", alice, bob, carol)
        return alice, bob, carol

    async def assert_disconnect_seen(self, gone, *members):
        for member in members:
            await member.expect_system(f"{gone} disconnected")
        await expect_quiet(*members)

    async def test_close(self):
        alice, bob, carol = await self.three_in_lobby()
        await bob.close()
        await self.assert_disconnect_seen("bob", alice, carol)

    async def test_abrupt_close(self):
        alice, bob, carol = await self.three_in_lobby()
        bob.abort()
        await self.assert_disconnect_seen("bob", alice, carol)

    async def test_half_close_is_a_disconnect(self):
        alice, bob, carol = await self.three_in_lobby()
        await bob.shutdown_write()
        await self.assert_disconnect_seen("bob", alice, carol)
        await bob.expect_closed()

    async def test_room_keeps_working_after_a_disconnect(self):
        alice, bob, carol = await self.three_in_lobby()
        await carol.close()
        await self.assert_disconnect_seen("carol", alice, bob)
        await alice.say("still here")
        await bob.expect_message("alice", {"content": "still here"})
        await expect_quiet(alice, bob)

    async def test_disconnect_after_leaving_is_not_announced(self):
        alice, bob, carol = await self.three_in_lobby()
        await bob.leave()
        await alice.expect_system("bob left the room")
        await carol.expect_system("bob left the room")
        await bob.close()
        await self.disconnect_handled(bob)
        await expect_quiet(alice, carol)

    async def test_disconnect_outside_a_room_is_silent(self):
        alice, bob = await self.users("alice", "bob")
        await alice.create("lobby")
        stranger = await self.connect()
        await stranger.close()
        await bob.close()
        await self.disconnect_handled(stranger, bob)
        await alice.expect_nothing()

    async def test_other_rooms_hear_nothing(self):
        alice, bob, carol, dave = await self.users("alice", "bob", "carol", "dave")
        await form_room("lobby", alice, bob)
        await form_room("other", carol, dave)
        await bob.close()
        await alice.expect_system("bob disconnected")
        await expect_quiet(carol, dave)

    async def test_last_member_leaving_deletes_the_room(self):
        alice, bob = await self.users("alice", "bob")
        await alice.create("lobby")
        await alice.close()
        await self.create_when_deleted(bob, "lobby")

    async def test_room_deleted_after_every_member_disconnects(self):
        alice, bob, carol = await self.three_in_lobby()
        await bob.close()
        await alice.expect_system("bob disconnected")
        await carol.expect_system("bob disconnected")
        alice.abort()
        await carol.expect_system("alice disconnected")
        await carol.close()
        dave = await self.user("dave")
        await self.create_when_deleted(dave, "lobby")

    async def test_username_is_freed(self):
        alice, bob, carol = await self.three_in_lobby()
        bob.abort()
        await alice.expect_system("bob disconnected")
        await carol.expect_system("bob disconnected")
        again = await self.connect()
        reply = await self.retry_while(again, command("username", "bob"), "Username already taken")
        self.assertEqual(reply, {"type": "welcome", "body": {"content": "Username set to: bob"}})
        again.name = "bob"
        await again.join("lobby")
        await alice.expect_system("bob joined the room")
        await carol.expect_system("bob joined the room")

    async def test_unregistered_disconnect_leaves_no_trace(self):
        stranger = await self.connect()
        await stranger.send(command("username", " "))
        await stranger.expect_error("Username cannot be empty")
        stranger.abort()
        alice = await self.user("alice")
        await alice.create("lobby")
        await self.disconnect_handled(stranger)
        await alice.expect_nothing()

    async def create_when_deleted(self, client, room):
        reply = await self.retry_while(client, command("create", room), "Room already exists")
        self.assertEqual(reply, {"type": "welcome", "body": {"content": f"Created and joined room: {room}"}})
        await client.expect_system(f"{client.name} created the room")


if __name__ == "__main__":
    unittest.main()
