"""scripts/chat reconnecting, against the scripted server of fake_server.py,
whose every answer the test chooses: the resume (one `[Reconnected]` line,
the room kept, the token sent back and never shown), a name taken meanwhile
(no more attempts), the fallback to a fresh name and a rejoin, lines typed
while offline (sent after, for the room's keys then; bounded), the backoff
schedule, leaving while offline, and --no-reconnect."""

import os
import re
import signal
import tempfile
import time
import unittest

from chat_process import TIMEOUT, ChatProcess, pattern
from cturn_chat import crypto, signing
from cturn_chat.backoff import CAP, FIRST
from fake_server import FakeServer

ALICE, CAROL = (crypto.generate_private_key() for _ in range(2))
ALICE_PEM, CAROL_PEM = crypto.announced_pem(ALICE), crypto.announced_pem(CAROL)
RECONNECTED = re.compile(r"\[Reconnected.*")


class Reconnect(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.TemporaryDirectory()
        self.addCleanup(self.home.cleanup)
        self.server = FakeServer()
        self.addCleanup(self.server.close)

    def start(self, *flags, room="lobby"):
        """bob connected, named, in `room` with alice (if `room`)."""
        self.chat = ChatProcess("bob", ["--port", str(self.server.port), "--username", "bob", *flags],
                                os.path.join(self.home.name, "bob"))
        self.addCleanup(self.chat.kill)
        first = self.server.receive("username")
        self.pubkey = first["body"]["pubkey"]
        self.assertNotIn("resume", first["body"])
        self.token = self.server.welcome_name("bob")
        if room is not None:
            self.chat.type(f"/join {room}")
            self.server.receive("join")
            self.server.send("welcome", f"Joined room: {room}")
            self.server.send("pubkey", ALICE_PEM, sender="alice")
            self.chat.expect("[Key] Received public key from alice")

    def lose_connection(self):
        """Drop bob's connection and wait for the next one's username frame."""
        count = len(self.server.connections)
        self.server.drop()
        self.chat.expect(pattern("[Offline] Connection lost"))
        self.server.wait_connection(count + 1)
        return self.server.receive("username")

    def assert_no_more_connections(self, count, within=2.0):
        time.sleep(within)
        self.assertEqual(len(self.server.connections), count)

    def read_lines(self, count):
        """The next `count` messages bob sent, decrypted, as (to, text, private)."""
        keys = {"alice": ALICE, "carol": CAROL}
        lines = []
        while len(lines) < count:
            body = self.server.receive("message")["body"]
            text = crypto.decrypt(keys[body["to"]], body["content"]).decode()
            lines.append((body["to"], text, body.get("private", False)))
        return lines

    def test_resumed_with_one_line_and_the_room_kept(self):
        self.start()
        username = self.lose_connection()
        # The name, the same key, and the token of the last welcome.
        self.assertEqual(username["body"], {"content": "bob", "pubkey": self.pubkey, "resume": self.token})
        token = self.server.resume("bob", "lobby", {"alice": ALICE_PEM})
        self.assertEqual(self.server.receive()["type"], "create")  # the probe, see comeback.py
        self.server.send("error", "Leave current room first")
        self.chat.expect("[Reconnected]")
        # alice's key is the one known: a signed line of hers is shown as hers.
        signer = signing.Signer(ALICE)
        bob_key = crypto.load_public_key(self.pubkey)
        body = signer.sign({"content": crypto.encrypt(bob_key, b"welcome back"), "encrypted": True,
                            "to": "bob"}, "alice", "lobby")
        self.server.send("message", sender="alice", **body)
        self.chat.expect("alice: welcome back")
        lines = self.chat.lines()
        after = lines[max(i for i, line in enumerate(lines) if line.startswith("[Offline] Connection lost")):]
        self.assertEqual([line for line in after if RECONNECTED.fullmatch(line)], ["[Reconnected]"])
        self.assertFalse([line for line in after if line.startswith(("[Server]", "[Key]", "[Error]"))], after)
        # The token rotates: the next resume sends the new one.
        self.assertEqual(self.lose_connection()["body"]["resume"], token)
        # Never shown, never written.
        self.assertNotIn(self.token, self.chat.raw)
        self.assertNotIn(token, self.chat.raw)
        for directory, _, files in os.walk(self.home.name):
            for name in files:
                with open(os.path.join(directory, name), "rb") as f:
                    self.assertNotIn(token.encode(), f.read())

    def test_a_changed_key_after_a_resume_is_still_flagged(self):
        self.start()
        self.lose_connection()
        self.server.resume("bob", "lobby", {"alice": CAROL_PEM})  # not alice's key
        self.server.receive("create")
        self.server.send("error", "Leave current room first")
        self.chat.expect_in_order("[Reconnected]", "[Key] Received public key from alice",
                                  "[Warning] !!! THE KEY OF alice HAS CHANGED !!!")

    def test_a_name_taken_meanwhile_stops_the_reconnecting(self):
        self.start()
        self.lose_connection()
        self.server.send("error", "Username already taken")
        self.chat.expect("[Error] Username already taken")
        self.chat.expect(pattern("[Offline] Not reconnecting: the server refused the name bob"))
        self.assertEqual(self.chat.wait(), 1)
        self.assert_no_more_connections(2, within=1.0)

    def test_a_fresh_name_rejoins_the_room(self):
        self.start()
        username = self.lose_connection()
        self.assertEqual(username["body"]["resume"], self.token)
        self.server.welcome_name("bob")  # the token was refused: a fresh name, in no room
        self.assertEqual(self.server.receive()["body"], {"content": "lobby"})
        self.server.send("error", "Room already exists")
        self.assertEqual(self.server.receive()["type"], "join")
        self.server.send("welcome", "Joined room: lobby")
        self.server.send("pubkey", ALICE_PEM, sender="alice")
        self.assertEqual(self.server.receive()["type"], "join")  # the end of the keys
        self.server.send("error", "Leave current room first")
        self.chat.expect("[Reconnected: rejoined lobby]")
        self.chat.type("still here")
        self.assertEqual(self.read_lines(1), [("alice", "still here", False)])

    def test_a_room_that_is_gone_is_created_again(self):
        self.start()
        self.lose_connection()
        self.server.welcome_name("bob")
        self.server.receive("create")
        self.server.send("welcome", "Created and joined room: lobby")
        self.chat.expect("[Reconnected: rejoined lobby, created again: it was gone]")
        self.chat.type("/who")
        self.chat.expect(pattern("lobby"))

    def test_lines_typed_offline_are_sent_after_for_the_keys_then(self):
        self.start()
        self.server.stop_listening()
        self.server.drop()
        self.chat.expect(pattern("[Offline] Connection lost"))
        self.chat.type("first offline")
        self.chat.expect("[Offline] Queued, sent once reconnected: first offline")
        self.chat.type("/msg alice for alice only")
        self.chat.expect("[Offline] Queued, sent once reconnected: /msg alice for alice only")
        self.chat.type("/join elsewhere")
        self.chat.expect(pattern("[Error] Not connected: /join is refused until reconnected"))
        self.chat.type("/keys")
        self.chat.expect(pattern("[Key] bob (you): "))
        for index in range(98):
            self.chat.type(f"line {index}")
        self.chat.expect("[Offline] Queued, sent once reconnected: line 97")
        self.chat.type("one too many")
        self.chat.expect(pattern("[Offline] Not queued, so NOT sent: 100 lines"))
        self.server.listen_again()
        self.server.wait_connection(2)
        self.server.receive("username")
        # carol joined meanwhile: the queued lines are encrypted for her too.
        self.server.resume("bob", "lobby", {"alice": ALICE_PEM, "carol": CAROL_PEM})
        self.server.receive("create")
        self.server.send("error", "Leave current room first")
        self.chat.expect("[Reconnected]")
        self.chat.expect("[Reconnected] Sending 100 line(s) typed while offline")
        expected = [("alice", "first offline", False), ("carol", "first offline", False),
                    ("alice", "for alice only", True)]
        for index in range(98):
            expected += [("alice", f"line {index}", False), ("carol", f"line {index}", False)]
        self.assertEqual(self.read_lines(len(expected)), expected)
        self.assertFalse([line for line in self.chat.lines() if "one too many" in line and "bob:" in line])

    def test_quit_and_ctrl_c_work_while_waiting(self):
        for how in ("/quit", "ctrl-c"):
            with self.subTest(how=how):
                self.server = FakeServer()
                self.addCleanup(self.server.close)
                self.start()
                self.server.stop_listening()
                self.server.drop()
                self.chat.expect(pattern("[Offline] Connection lost"))
                self.chat.type("never sent")
                self.chat.expect(pattern("[Offline] Queued"))
                began = time.monotonic()
                if how == "/quit":
                    self.chat.type("/quit")
                    self.chat.expect("[Offline] 1 queued line(s) NOT sent")
                else:
                    os.killpg(self.chat.proc.pid, signal.SIGINT)
                self.assertEqual(self.chat.wait(), 0)
                self.assertLess(time.monotonic() - began, 5.0)

    def test_no_reconnect_exits_as_before(self):
        self.start("--no-reconnect")
        self.server.drop()
        self.chat.expect("Disconnected from server")
        self.assertEqual(self.chat.wait(), 1)
        self.assert_no_more_connections(1, within=1.0)

    def test_the_backoff_doubles_from_half_a_second_with_jitter(self):
        self.start(room=None)
        self.server.drop_on_accept = True
        self.server.drop()
        # Each loss line says the wait drawn, within its ceiling (0.5 s doubling).
        waits = []
        for _ in range(5):
            line = self.chat.expect(re.compile(r"\[Offline\] Connection lost.*: reconnecting in \d+\.\d s;.*"),
                                    timeout=TIMEOUT + 16)
            waits.append(float(line.split(": reconnecting in ")[1].split(" s;")[0]))
            self.server.wait_connection(len(waits) + 1, timeout=TIMEOUT + 16)
        ceilings = [min(CAP, FIRST * 2 ** n) for n in range(len(waits))]
        for wait, ceiling in zip(waits, ceilings):
            self.assertLessEqual(wait, ceiling + 0.05)  # shown rounded to 0.1 s
        # Each attempt came after the wait announced before it (not sooner;
        # noticing the loss only adds to it), and not much later.
        accepted = [conn.accepted_at for conn in self.server.connections]
        for before, after, wait in zip(accepted[1:], accepted[2:], waits[1:]):
            self.assertGreaterEqual(after - before, wait - 0.06)
            self.assertLess(after - before, wait + 3.0)

if __name__ == "__main__":
    unittest.main()
