"""Two scripts/chat processes on pseudo-terminals chat through the real
server, as two people would; a raw client plays a hostile or keyless peer."""

import asyncio
import os
import re
import tempfile
import unittest

from chat_process import ChatProcess, pattern
from cturn_chat.pieces import MAX_LINE_BYTES
from cturn_client import command
from cturn_testcase import ServerTestCase

ESCAPE_ATTACK = "\x1b[2J\x1b]0;owned\x07red:\x1b[31mX\x9b1m\rforged\u202eevil"


class ChatTerminals(ServerTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.home = tempfile.TemporaryDirectory()
        self.addCleanup(self.home.cleanup)

    async def chat(self, name, *args, identity=None):
        """A chat process for `name` (None: it is asked for), connected."""
        config = os.path.join(self.home.name, name or "asked")
        argv = ["--port", str(self.server.port), *args]
        if name is not None:
            argv += ["--username", name]
        process = ChatProcess(name or "asked", argv, config)
        self.addCleanup(process.kill)
        await self.expect(process, f"Connected to 127.0.0.1:{self.server.port}")
        return process

    async def expect(self, process, *patterns):
        return await asyncio.to_thread(process.expect_in_order, *patterns)

    async def test_two_people_chat_in_a_room(self):
        alice = await self.chat("alice")
        await self.expect(alice, "[Server] Username set to: alice")
        bob = await self.chat(None)
        # Asked as client.js asks; the prompt is the input line, not a line yet.
        await asyncio.to_thread(self._wait_for_raw, bob, "Choose a username: ")
        bob.type("bob")
        await self.expect(bob, "[Server] Username set to: bob")

        alice.type("/create lobby")
        await self.expect(alice, "[Server] Created and joined room: lobby", "[System] alice created the room")
        bob.type("/join lobby")
        await self.expect(bob, "[Server] Joined room: lobby", "[Key] Received public key from alice")
        await self.expect(alice, "[System] bob joined the room", "[Key] Received public key from bob")

        alice.type("hello bob ✓")
        await self.expect(alice, "alice: hello bob ✓")
        await self.expect(bob, "alice: hello bob ✓")
        # The longest line the server takes (far more than one RSA block or
        # the kernel's 4 KiB canonical-mode line) travels in 307 pieces and
        # shows as one line; one byte more is refused.
        longest = "".join(f"{i} ünïcödé €uro 🙂 " for i in range(2600)).encode()[:MAX_LINE_BYTES]
        longest = longest.decode("utf-8", "ignore")  # drops a character cut at the end
        longest += "!" * (MAX_LINE_BYTES - len(longest.encode()))
        self.assertEqual(len(longest.encode()), MAX_LINE_BYTES)
        bob.type(longest)
        await self.expect(alice, f"bob: {longest}")
        bob.type(longest + "!")
        await self.expect(bob, f"[Error] Line too long ({MAX_LINE_BYTES + 1} bytes, at most {MAX_LINE_BYTES}): not sent")

        # A typed escape sequence (an arrow key) is not part of the message.
        bob.type("before\x1b[Dafter")
        await self.expect(alice, "bob: beforeafter")

        alice.type("/keys")
        own = await self.expect(alice, re.compile(r"\[Key\] alice \(you\): [0-9a-f ]{79}"))
        await self.expect(alice, re.compile(r"\[Key\] bob: [0-9a-f ]{79}"))
        bob.type("/keys")
        await self.expect(bob, re.compile(r"\[Key\] bob \(you\): .*"),
                          "[Key] alice: " + own[0].split(": ", 1)[1])
        # Both sides compute the same safety code from their two keys.
        alice.type("/verify bob")
        code = (await self.expect(alice, re.compile(r"\[Key\] Safety code of you and bob: ((\d{5} ){5}\d{5})")))[0]
        bob.type("/verify alice")
        await self.expect(bob, "[Key] Safety code of you and alice: " + code.rsplit(": ", 1)[1])

        bob.type("/leave")
        await self.expect(bob, "[Server] Left room: lobby")
        await self.expect(alice, "[System] bob left the room")
        alice.type("anyone?")
        await self.expect(alice, re.compile(r"\[Error\] Nobody else in the room has a key .*NOT sent.*"))

        for process in (alice, bob):
            process.type("/quit")
            self.assertEqual(await asyncio.to_thread(process.wait), 0)

    async def test_hostile_and_keyless_peers(self):
        alice = await self.chat("alice")
        alice.type("/create den")
        await self.expect(alice, "[System] alice created the room")
        eve = await self.user("eve")  # registers no key
        await eve.join("den")
        await eve.expect("pubkey", sender="alice")
        await self.expect(alice, "[System] eve joined the room")

        # Never plain text by accident: eve has no key, so nothing is sent;
        # the /plain that follows is the next thing eve receives.
        alice.type("a secret")
        await self.expect(alice, re.compile(r"\[Error\] No member has a key .*NOT sent.*"),
                          "[Key] Not sent to: eve (no key)")
        alice.type("/plain in the clear")
        await self.expect(alice, "alice [unencrypted]: in the clear")
        frame = await eve.expect("message", sender="alice")
        self.assertEqual(frame.body["content"], "in the clear")
        self.assertEqual(set(frame.body), {"content", "seq", "sig"})

        # Whatever a peer sends, no control character reaches the terminal.
        mark = len(alice.raw)
        await eve.send(command("message", ESCAPE_ATTACK))
        line = await self.expect(alice, pattern("forged"))
        self.assertTrue(line[0].startswith("eve [unverified] [unencrypted]: "), line)
        await eve.send(command("message", "end of attack"))
        await self.expect(alice, "eve [unverified] [unencrypted]: end of attack")
        written = alice.raw[mark:].replace("\r\x1b[K", "").replace("\r\n", "")
        self.assertIsNone(re.search("[\x00-\x1f\x7f-\x9f\u202e]", written), repr(written))

        alice.type("/quit")
        self.assertEqual(await asyncio.to_thread(alice.wait), 0)

    async def test_identity_lasts_and_a_refused_key_change_is_told_to_its_owner(self):
        GONE_BOB = re.compile(r"\[System\] bob (disconnected|left the room)")
        alice = await self.chat("alice")
        alice.type("/create den")
        await self.expect(alice, "[System] alice created the room")
        identity = os.path.join(self.home.name, "bob", "cturn", "identity.pem")
        bob = await self.chat("bob")
        self.assertIn(f"[Key] created a new key pair in {identity}", bob.lines())
        self.assertEqual(os.stat(identity).st_mode & 0o777, 0o600)
        bob.type("/join den")
        await self.expect(alice, "[Key] Received public key from bob")
        bob.type("/quit")
        await asyncio.to_thread(bob.wait)
        # The server has let the name go before it is claimed again.
        await self.expect(alice, GONE_BOB)

        # Restarted: the same identity by default, so no warning, and signed lines.
        bob = await self.chat("bob")
        self.assertFalse([line for line in bob.lines() if "created a new key pair" in line])
        bob.type("/join den")
        await self.expect(alice, "[Key] Received public key from bob")
        bob.type("back again")
        await self.expect(alice, "bob: back again")
        alice.type("still you")
        await self.expect(bob, "alice: still you")
        self.assertFalse([line for line in alice.lines() if "[Warning]" in line], alice.lines())
        bob.type("/quit")
        await asyncio.to_thread(bob.wait)
        await self.expect(alice, GONE_BOB)

        # Another key under the same name: refused, and its owner is told.
        impostor = await self.chat("bob", "--identity", os.path.join(self.home.name, "other.pem"))
        impostor.type("/join den")
        await self.expect(alice, "[Key] Received public key from bob",
                          "[Warning] !!! THE KEY OF bob HAS CHANGED !!!")
        await self.expect(impostor, pattern("[Key] alice does not accept your key"))
        alice.type("for bob only")
        await self.expect(alice, re.compile(r"\[Error\] No member has a key .*NOT sent.*"),
                          re.compile(r"\[Key\] Not sent to: bob \(key changed: .*/trust bob\)"))
        impostor.type("hello?")
        await self.expect(impostor, re.compile(r"\[Error\] No member has a key .*NOT sent.*"),
                          re.compile(r"\[Key\] Not sent to: alice \(it does not accept your key.*\)"))
        alice.type("/trust bob")
        await self.expect(alice, pattern("[Key] Trusting the new key of bob"))
        await self.expect(impostor, "[Key] alice now accepts your key.")
        alice.type("now trusted")
        await self.expect(impostor, "alice: now trusted")
        impostor.type("thanks")
        await self.expect(alice, "bob: thanks")
        for process in (alice, impostor):
            process.type("/quit")
            self.assertEqual(await asyncio.to_thread(process.wait), 0)

    def _wait_for_raw(self, process, text):
        with process._changed:
            if not process._changed.wait_for(lambda: text in process.raw or process.closed, 15):
                raise AssertionError(f"no {text!r} on the screen: {process.raw!r}")


if __name__ == "__main__":
    unittest.main()
