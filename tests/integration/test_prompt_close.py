"""When the server decides to close a connection, the client leaves its room
and frees its name at that moment: the socket's orderly close (flush,
half-close, waiting for the peer's FIN, the close deadline) goes on alone.

The close deadline here is far longer than any timeout of the test, so only a
prompt leave can pass; the closed clients keep their end of the socket open.
"""

import unittest

from cturn_client import command, form_room
from cturn_testcase import ServerTestCase

LIMIT = 1024


class PromptLeaveOnServerClose(ServerTestCase):
    server_flags = ("--shutdown-grace-ms", "60000", "--max-line-bytes", str(LIMIT))

    async def test_line_too_long_frees_the_member_and_the_name_at_once(self):
        alice, bob = await self.users("alice", "bob")
        await form_room("lobby", alice, bob)
        # No newline: the limit is detected as soon as LIMIT + 1 bytes arrive.
        await alice.send(b"x" * (LIMIT + 1))
        await alice.expect_error("Message too long")
        await bob.expect_system("alice disconnected")
        # The name can be taken again, and the room counts bob alone.
        again = await self.user("alice")
        await again.join("lobby")
        await bob.expect_system("alice joined the room")

    async def test_last_member_closed_by_the_server_deletes_the_room(self):
        alice = await self.user("alice")
        await alice.create("lobby")
        await alice.send(b"x" * (LIMIT + 1))
        await alice.expect_error("Message too long")
        bob = await self.user("bob")
        await bob.send(command("join", "lobby"))
        await bob.expect_error("Room does not exist")


if __name__ == "__main__":
    unittest.main()
