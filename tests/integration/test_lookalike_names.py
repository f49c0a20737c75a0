"""Look-alike usernames and rooms: a name whose UTS #39 confusable skeleton
(after NFC, without invisible characters) equals that of a name in use is
refused with `Username already taken`, in either order, and is free again
once the holder is gone; a room name that looks like an existing room's is
`Room already exists` to `create` and `Room does not exist` to `join`. Names
stay case-sensitive otherwise. Also run against a 3-node cluster (the check is
cluster-wide: each client of a test is on the next node)."""

import unittest

from cturn_client import command, form_room
from cturn_testcase import ServerTestCase

TAKEN = "Username already taken"

# (name, its look-alike)
LOOK_ALIKES = [
    ("paypal", "p\u0430ypal"),                        # Latin / Cyrillic а
    ("scope", "\u0455\u0441\u043e\u0440\u0435"),      # every letter Cyrillic
    ("bob", "b\u03bfb"),                              # Greek omicron
    ("ABE", "\u0391\u0392\u0395"),                    # Greek capitals
    ("modern", "rnodern"),                            # rn against m
    ("caf\u00e9", "cafe\u0301"),                      # precomposed / combining mark
]


class LookAlikeNames(ServerTestCase):
    async def claim(self, name):
        client = await self.connect(label=repr(name))
        await client.send(command("username", name))
        return client

    async def assert_second_is_taken(self, first, second):
        """`first` registers, then `second` is refused; both leave again. (In a
        cluster a name may be freed a moment after its `disconnect` line, so no
        name of LOOK_ALIKES is used twice.)"""
        holder = await self.claim(first)
        await holder.expect_welcome(f"Username set to: {first}")
        refused = await self.claim(second)
        await refused.expect_error(TAKEN)
        await holder.close()
        await refused.close()
        await self.disconnect_handled(holder, refused)

    async def test_a_look_alike_of_a_name_in_use_is_taken(self):
        for original, look_alike in LOOK_ALIKES:
            with self.subTest(original=original, look_alike=look_alike):
                await self.assert_second_is_taken(original, look_alike)

    async def test_the_original_is_taken_when_the_look_alike_came_first(self):
        for original, look_alike in LOOK_ALIKES:
            with self.subTest(original=original, look_alike=look_alike):
                await self.assert_second_is_taken(look_alike, original)

    async def test_the_look_alike_is_free_once_the_holder_leaves(self):
        holder = await self.claim("paypal")
        await holder.expect_welcome("Username set to: paypal")
        impostor = await self.claim("p\u0430ypal")
        await impostor.expect_error(TAKEN)
        await holder.close()
        reply = await self.retry_while(impostor, command("username", "p\u0430ypal"), TAKEN)
        self.assertEqual(reply, {"type": "welcome",
                                 "body": {"content": "Username set to: p\u0430ypal"}})
        impostor.name = "p\u0430ypal"
        # And the holder's own name is now the taken one.
        again = await self.claim("paypal")
        await again.expect_error(TAKEN)

    async def test_names_that_only_differ_in_case_or_letters_are_distinct(self):
        alice = await self.claim("alice")
        await alice.expect_welcome("Username set to: alice")
        alice.name = "alice"
        for name in ("Alice", "alicia", "b\u00f6b"):
            client = await self.claim(name)
            await client.expect_welcome(f"Username set to: {name}")
            client.name = name
        # Registered look-alike-free names work as usual.
        bob = self.clients[-1]
        await form_room("lobby", alice, bob)


# (room, its look-alike)
ROOM_LOOK_ALIKES = [
    ("lobby", "lobb\u0443"),                     # Cyrillic у
    ("general", "gener\u0430l"),                 # Cyrillic а
    ("modern", "rnodern"),                       # rn against m
]


class LookAlikeRooms(ServerTestCase):
    """The same rule for rooms: `create` of a look-alike of an existing room
    is `Room already exists`; `join` wants the exact name, so a look-alike is
    `Room does not exist`."""

    async def assert_exists_but_cannot_be_joined(self, client, room):
        await client.send(command("create", room))
        await client.expect_error("Room already exists")
        await client.send(command("join", room))
        await client.expect_error("Room does not exist")

    async def test_a_look_alike_of_an_existing_room_exists_but_cannot_be_joined(self):
        alice, bob = await self.users("alice", "bob")
        for room, look_alike in ROOM_LOOK_ALIKES:
            with self.subTest(room=room, look_alike=look_alike):
                await alice.create(room)
                await self.assert_exists_but_cannot_be_joined(bob, look_alike)
                await alice.leave()
        await alice.expect_nothing()

    async def test_the_original_exists_when_the_look_alike_came_first(self):
        alice, bob = await self.users("alice", "bob")
        await alice.create("lobb\u0443")
        await self.assert_exists_but_cannot_be_joined(bob, "lobby")
        await bob.join("lobb\u0443")
        await alice.expect_system("bob joined the room")

    async def test_the_look_alike_is_free_once_the_room_is_gone(self):
        alice, bob = await self.users("alice", "bob")
        await alice.create("lobby")
        await self.assert_exists_but_cannot_be_joined(bob, "lobb\u0443")
        await alice.close()
        reply = await self.retry_while(bob, command("create", "lobb\u0443"), "Room already exists")
        self.assertEqual(reply, {"type": "welcome",
                                 "body": {"content": "Created and joined room: lobb\u0443"}})


if __name__ == "__main__":
    unittest.main()
