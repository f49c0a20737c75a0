"""The real scripts/chat against a scripted server that lies: replays,
splices, senders that are not members, messages the server made itself,
frames nested too deep or too large, and names built to deceive. None may
be shown as a member's words, and none may end the chat."""

import os
import tempfile
import unittest

from chat_process import ChatProcess, pattern
from cturn_chat import crypto, signing
from fake_server import FakeServer

# Key generation is the slow part: a few keys serve every test.
ALICE, MIMIC, SPACED = (crypto.generate_private_key() for _ in range(3))


class ForgedFrames(unittest.TestCase):
    def setUp(self):
        home = tempfile.TemporaryDirectory()
        self.addCleanup(home.cleanup)
        self.server = FakeServer()
        self.addCleanup(self.server.close)
        self.chat = ChatProcess("bob", ["--port", str(self.server.port), "--username", "bob"],
                                os.path.join(home.name, "bob"))
        self.addCleanup(self.chat.kill)
        self.bob_key = crypto.load_public_key(self.server.receive("username")["body"]["pubkey"])
        self.server.send("welcome", "Username set to: bob")
        self.chat.type("/join lobby")
        self.server.receive("join")
        self.server.send("welcome", "Joined room: lobby")
        self.server.send("pubkey", crypto.announced_pem(ALICE), sender="alice")
        self.chat.expect("[Key] Received public key from alice")
        self.signers = {}

    def signed(self, text, sender="alice", key=ALICE, room="lobby", to="bob", **fields):
        """A body `sender` would send to bob, signed with `key`."""
        signer = self.signers.setdefault(id(key), signing.Signer(key))
        body = {"content": crypto.encrypt(self.bob_key, text.encode()), "encrypted": True, "to": to, **fields}
        return signer.sign(body, sender, room)

    def test_replays_forged_senders_and_server_made_lines_are_not_shown(self):
        hello = self.signed("hello")
        self.server.send("message", sender="alice", **hello)
        self.chat.expect("alice: hello")
        self.server.send("message", sender="alice", **hello)
        self.chat.expect("[Warning] Not shown: a message from alice that was already received (a replay)")
        for sender in ("carol", "bob"):  # not a member; this client itself
            self.server.send("message", sender=sender, **self.signed("hello again"))
            self.chat.expect(f"[Warning] Not shown: a message said to come from {sender}, who is not"
                             " in this room as far as this client knows")
        # What the server can make: a line for bob's key, no signature.
        made_up = {"content": crypto.encrypt(self.bob_key, b"wire the money"), "encrypted": True,
                   "to": "bob", "private": True}
        self.server.send("message", sender="alice", **made_up)
        self.chat.expect("[Warning] Not shown: a message said to come from alice that alice did not sign")
        # A signed line with its ciphertext swapped, or replayed into another room.
        self.server.send("message", sender="alice", **(self.signed("yes") | {"content": made_up["content"]}))
        self.chat.expect("[Warning] Not shown: a message said to come from alice that alice did not sign")
        self.server.send("message", sender="alice", **self.signed("wire the money", room="elsewhere"))
        self.chat.expect("[Warning] Not shown: a message said to come from alice that alice did not sign")
        self.server.send("message", sender="alice", **self.signed("to carol", to="carol"))
        self.chat.expect("[Warning] Not shown: a message from alice addressed to someone else")
        self.server.send("message", sender="alice", **self.signed("the end"))
        self.chat.expect("alice: the end")
        shown = "\n".join(self.chat.lines())
        self.assertNotIn("wire the money", shown)
        self.assertNotIn("(private)", shown)

    def test_pieces_of_two_lines_are_never_spliced(self):
        first = [self.signed("I do ", line="aaaa", part=1, parts=2),
                 self.signed("not agree", line="aaaa", part=2, parts=2)]
        second = [self.signed("You ", line="bbbb", part=1, parts=2),
                  self.signed("agree", line="bbbb", part=2, parts=2)]
        self.server.send("message", sender="alice", **first[0])
        # The second line's end made to look like the first's.
        self.server.send("message", sender="alice", **(second[1] | {"line": "aaaa"}))
        self.chat.expect("[Warning] Not shown: a message said to come from alice that alice did not sign")
        # As it was signed: it does not continue the first line.
        self.server.send("message", sender="alice", **second[1])
        self.chat.expect("alice: I do  [incomplete: pieces missing]")
        self.chat.expect("alice: agree [incomplete: pieces missing]")
        self.server.send("message", sender="alice", **first[1])
        self.chat.expect("[Warning] Not shown: a message from alice that was already received (a replay)")
        self.assertFalse([line for line in self.chat.lines() if "I do agree" in line or "I do not" in line])

    def test_hostile_frames_cost_bounded_memory_and_never_end_the_chat(self):
        not_understood = "[Error] The server sent a frame this client does not understand"
        self.server.send_raw(b"[" * 200_000 + b"]" * 200_000 + b"\n")
        self.chat.expect(not_understood)
        self.server.send_raw(b'{"type":"message","sender":"alice","body":{"content":'
                             + b"[" * 100_000 + b"]" * 100_000 + b"}}\n")
        self.chat.expect(not_understood)
        self.server.send_raw(b'{"type":"system","body":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001 + b"\n")
        self.chat.expect(not_understood)
        # A frame of 3 MiB, unsigned from a member that signs.
        self.server.send("message", "x" * (3 << 20), sender="alice")
        self.chat.expect("[Warning] Not shown: a message said to come from alice that alice did not sign")
        # Made-up members, each starting an endless line: the oldest are let go.
        for index in range(100):
            self.server.send("system", f"user{index} joined the room")
            self.server.send("message", "y" * 4096, sender=f"user{index}", line="L", part=1, parts=512)
        self.chat.expect(pattern("user0 [unverified] [unencrypted]: yyyy"))
        self.assertTrue(self.chat.lines()[self.chat.cursor - 1].endswith("[incomplete: pieces missing]"))
        self.server.send("message", sender="alice", **self.signed("still here"))
        self.chat.expect("alice: still here")
        # A line that never ends: the connection is dropped, not the memory.
        self.server.send_raw(b'{"type":"system","body":{"content":"' + b"z" * (5 << 20))
        self.chat.expect("Disconnected from server (the server sent an endless line)")
        self.assertEqual(self.chat.wait(), 1)

    def test_deceptive_names_are_shown_as_they_are_and_can_be_typed(self):
        mimic = "alice\u200b"
        self.server.send("system", f"{mimic} joined the room")
        self.chat.expect('[System] "alice\\u200b" joined the room')
        self.chat.expect('[Warning] "alice\\u200b" looks like alice, a name you know:'
                         " it is someone else, with a key of its own")
        self.server.send("pubkey", crypto.announced_pem(MIMIC), sender=mimic)
        self.chat.expect('[Key] Received public key from "alice\\u200b"')
        self.server.send("message", sender=mimic, **self.signed("wire the money", sender=mimic, key=MIMIC))
        self.chat.expect('"alice\\u200b": wire the money')
        for label in ("alice (private)", "[System] eve", "\u202eevil"):
            self.server.send("system", f"{label} joined the room")
        self.chat.expect('[System] "alice (private)" joined the room')
        self.chat.expect('[System] "[System] eve" joined the room')
        self.chat.expect('[System] "\\u202eevil" joined the room')

        # A name with a space, typed plain or quoted, in /msg and /verify.
        self.server.send("system", "al ice joined the room")
        self.server.send("pubkey", crypto.announced_pem(SPACED), sender="al ice")
        self.chat.expect('[Key] Received public key from "al ice"')
        for typed, text in (("/msg al ice hello there", "hello there"), ('/msg "al ice" again', "again"),
                            ("/msg alice\\u200b psst", "psst")):
            self.chat.type(typed)
            frame = self.server.receive("message")
            key = SPACED if frame["body"]["to"] == "al ice" else MIMIC
            self.assertEqual(crypto.decrypt(key, frame["body"]["content"]).decode(), text, typed)
        self.assertEqual(frame["body"]["to"], mimic)
        self.chat.type("/verify al ice")
        code = crypto.safety_code(SPACED.public_key(), self.bob_key)
        self.chat.expect(f'[Key] Safety code of you and "al ice": {code}')


if __name__ == "__main__":
    unittest.main()
