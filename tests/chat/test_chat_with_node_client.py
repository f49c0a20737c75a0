"""scripts/chat and a client.js-like Node peer (tests/chat/node_peer.js,
Node's crypto defaults) chat in one room through the real server: each
reads the other, a long line reaches the Node peer as consecutive pieces
and a Python peer as one line."""

import asyncio
import os
import re
import tempfile
import unittest

from chat_process import ChatProcess, NodePeer, node_path
from cturn_testcase import ServerTestCase


@unittest.skipIf(node_path() is None, "node is not installed: the client.js interoperability test needs it")
class ChatWithNodeClient(ServerTestCase):
    async def expect(self, process, *patterns):
        return await asyncio.to_thread(process.expect_in_order, *patterns)

    async def test_mixed_room(self):
        home = tempfile.TemporaryDirectory()
        self.addCleanup(home.cleanup)
        node = NodePeer("nodey", self.server.host, self.server.port)
        self.addCleanup(node.kill)
        await self.expect(node, "Connected to server", "[Server] Username set to: nodey")
        node.type("/create mixed")
        await self.expect(node, "[Server] Created and joined room: mixed", "[System] nodey created the room")

        chats = {}
        for name in ("alice", "bob"):
            chats[name] = ChatProcess(name, ["--port", str(self.server.port), "--username", name],
                                      os.path.join(home.name, name))
            self.addCleanup(chats[name].kill)
            await self.expect(chats[name], "[Server] Username set to: " + name)
            chats[name].type("/join mixed")
            await self.expect(chats[name], "[Server] Joined room: mixed", "[Key] Received public key from nodey")
            await self.expect(node, f"[System] {name} joined the room", f"[Key] Received public key from {name}")
        alice, bob = chats["alice"], chats["bob"]
        await self.expect(alice, "[System] bob joined the room", "[Key] Received public key from bob")

        # client.js cannot sign: its lines are shown, marked.
        node.type("hello from node ✓")
        for chat in (alice, bob):
            await self.expect(chat, "nodey [unverified]: hello from node ✓")

        alice.type("hi node, ça va? 🙂")
        await self.expect(node, "alice: hi node, ça va? 🙂")
        await self.expect(bob, "alice: hi node, ça va? 🙂")  # signed, so not [unverified]

        # More than client.js can encrypt in one block (214 bytes), multi-byte
        # characters across the cuts.
        long_line = "".join(f"{i:03}-ĀĒĪŌŪ-€-🙂 " for i in range(40))
        self.assertGreater(len(long_line.encode()), 3 * 214)
        alice.type(long_line)
        await self.expect(bob, f"alice: {long_line}")
        pieces = []
        while "".join(pieces) != long_line:
            self.assertLess(len("".join(pieces)), len(long_line), pieces)
            line = await self.expect(node, re.compile("alice: .*"))
            pieces.append(line[0][len("alice: "):])
        self.assertGreaterEqual(len(pieces), 4)
        for piece in pieces:
            self.assertLessEqual(len(piece.encode()), 214)

        # client.js never forgets a key: in another room it still encrypts
        # for alice and bob, and the server drops the copy for bob.
        for chat in (alice, bob):
            chat.type("/leave")
            await self.expect(chat, "[Server] Left room: mixed")
        node.type("/leave")
        await self.expect(node, "[Server] Left room: mixed")
        node.type("/create solo")
        await self.expect(node, "[System] nodey created the room")
        alice.type("/join solo")
        await self.expect(alice, "[Server] Joined room: solo", "[Key] Received public key from nodey")
        node.type("still encrypted")
        await self.expect(alice, "nodey [unverified]: still encrypted")

        for chat in (alice, bob):
            chat.type("/quit")
            self.assertEqual(await asyncio.to_thread(chat.wait), 0)


if __name__ == "__main__":
    unittest.main()
