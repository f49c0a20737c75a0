"""Transport framing: one JSON frame per line over a byte stream."""

import unittest

from cturn_client import command, encode, expect_quiet, form_room
from cturn_testcase import ServerTestCase


class Framing(ServerTestCase):
    async def test_frame_split_byte_by_byte(self):
        alice = await self.connect()
        await alice.send_chunked(command("username", "alice"), chunk_size=1)
        await alice.expect_welcome("Username set to: alice")
        await alice.expect_nothing()

    async def test_partial_line_waits_for_the_rest(self):
        alice = await self.connect()
        data = encode(command("username", "alice"))
        await alice.send(data[:10])
        await alice.expect_nothing_for(0.5)  # a barrier would complete the pending line
        await alice.send(data[10:])
        await alice.expect_welcome("Username set to: alice")

    async def test_frames_split_across_a_boundary_in_odd_chunks(self):
        alice = await self.connect()
        data = encode(command("username", "alice")) + encode(command("create", "lobby"))
        await alice.send_chunked(data, chunk_size=7)
        await alice.expect_welcome("Username set to: alice")
        await alice.expect_welcome("Created and joined room: lobby")
        await alice.expect_system("alice created the room")
        await alice.expect_nothing()

    async def test_pipelined_frames_in_one_write_answered_in_order(self):
        alice = await self.connect()
        await alice.send(command("create", "early"),  # before the username: an error
                         command("username", "alice"),
                         command("create", "lobby"),
                         command("leave"),
                         command("leave"))
        await alice.expect_error("You must set a username first")
        await alice.expect_welcome("Username set to: alice")
        await alice.expect_welcome("Created and joined room: lobby")
        await alice.expect_system("alice created the room")
        await alice.expect_welcome("Left room: lobby")
        await alice.expect_error("Not in any room")
        await alice.expect_nothing()

    async def test_many_pipelined_messages_all_relayed_in_order(self):
        alice, bob = await self.users("alice", "bob")
        await form_room("lobby", alice, bob)
        await alice.send(*(command("message", f"m{i}") for i in range(200)))
        for i in range(200):
            await bob.expect_message("alice", {"content": f"m{i}"})
        await expect_quiet(alice, bob)

    async def test_crlf_line_ending(self):
        alice = await self.connect()
        await alice.send(encode(command("username", "alice"))[:-1] + b"\r\n")
        await alice.expect_welcome("Username set to: alice")
        await alice.send(b'{"type":"create","body":{"content":"lobby"}}\r\n')
        await alice.expect_welcome("Created and joined room: lobby")
        await alice.expect_system("alice created the room")
        await alice.expect_nothing()

    async def test_blank_and_whitespace_only_lines_are_ignored(self):
        alice = await self.connect()
        await alice.send(b"\n", b"\r\n", b"   \n", b"\t\n", b" \t \r\n", b"\n\n\n")
        await alice.expect_nothing()
        # The connection still works and nothing was queued for those lines.
        await alice.register("alice")
        await alice.send(b"\n  \n\r\n")
        await alice.expect_nothing()

    async def test_blank_lines_between_pipelined_frames(self):
        alice = await self.connect()
        await alice.send(b"\n", command("username", "alice"), b"  \r\n\n", command("create", "lobby"), b"\n")
        await alice.expect_welcome("Username set to: alice")
        await alice.expect_welcome("Created and joined room: lobby")
        await alice.expect_system("alice created the room")
        await alice.expect_nothing()

    async def test_whitespace_around_the_json_value(self):
        alice = await self.connect()
        await alice.send(b'  {"type":"username","body":{"content":"alice"}}\t \n')
        await alice.expect_welcome("Username set to: alice")

    async def test_utf8_multibyte_character_split_between_reads(self):
        alice = await self.connect()
        await alice.send_chunked(command("username", "zoëก"), chunk_size=1)
        await alice.expect_welcome("Username set to: zoëก")

    async def test_server_frames_are_one_json_object_per_line(self):
        alice = await self.connect()
        await alice.send(command("username", "alice"), command("create", "lobby"))
        # recv() checks each line parses alone and has exactly the documented keys.
        for _ in range(3):
            frame = await alice.recv()
            self.assertNotIn(b"\n", frame.raw)
            self.assertNotIn(b"\r", frame.raw)


if __name__ == "__main__":
    unittest.main()
