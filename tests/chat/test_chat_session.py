"""The chat's rules without sockets: never plain text by accident, pieces
end to end, what peers send is shown sanitised, trust on first use."""

import json
import os
import re
import stat
import tempfile
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cturn_chat import crypto, pieces, signing
from cturn_chat.session import Session
from cturn_chat.trust import TrustStore, TrustStoreError

TERMINAL_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e]")
# Key generation is the slow part: a few keys serve every test.
KEYS = [crypto.generate_private_key() for _ in range(3)]


class Harness:
    """A Session with what it sent and showed recorded."""

    def __init__(self, config_dir, private_key=KEYS[0], server="127.0.0.1:1337"):
        self.frames, self.shown = [], []
        self.trust = TrustStore(os.path.join(config_dir, "cturn", "known_keys.json"), server)
        self.session = Session(private_key, self.trust, self.frames.append, self.shown.append)

    def server(self, type_, content, sender=None, **body):
        frame = {"type": type_, "body": {"content": content, **body}}
        if sender is not None:
            frame["sender"] = sender
        self.session.handle_frame(frame)

    def enter(self, name="alice", room="lobby"):
        self.session.handle_input(name)
        self.server("welcome", f"Username set to: {name}")
        self.server("welcome", f"Created and joined room: {room}")
        self.frames.clear()
        self.shown.clear()

    def joins(self, name, private_key=None, pem=None):
        self.server("system", f"{name} joined the room")
        if private_key is not None or pem is not None:
            self.server("pubkey", pem or crypto.public_pem(private_key), sender=name)

    def type(self, line):
        start_frames, start_shown = len(self.frames), len(self.shown)
        self.session.handle_input(line)
        return self.frames[start_frames:], self.shown[start_shown:]


def decrypt_for(frames, name, private_key):
    """What `name` reads in `frames` (one line, maybe in pieces)."""
    mine = [f["body"] for f in frames if f["body"].get("to") == name]
    return b"".join(crypto.decrypt(private_key, body["content"]) for body in mine).decode()


class ChatTestCase(unittest.TestCase):
    def setUp(self):
        self.config = tempfile.TemporaryDirectory()
        self.addCleanup(self.config.cleanup)
        self.alice = Harness(self.config.name)
        self.alice.enter()


class NeverPlainByAccident(ChatTestCase):
    def test_alone_in_a_room_nothing_is_sent(self):
        frames, shown = self.alice.type("a secret")
        self.assertEqual(frames, [])
        self.assertRegex(shown[0], r"^\[Error\] .*NOT sent.*/plain")

    def test_outside_a_room_nothing_is_sent(self):
        self.alice.server("welcome", "Left room: lobby")
        for line in ("a secret", "/plain a secret", "/msg bob a secret"):
            with self.subTest(line=line):
                frames, shown = self.alice.type(line)
                self.assertEqual(frames, [])
                self.assertTrue(shown[0].startswith("[Error] "), shown)

    def test_members_without_a_key_are_named_and_left_out(self):
        self.alice.joins("eve")
        frames, shown = self.alice.type("a secret")
        self.assertEqual(frames, [])
        self.assertEqual(shown[-1], "[Key] Not sent to: eve (no key)")
        self.alice.joins("bob", KEYS[1])
        frames, shown = self.alice.type("a secret")
        self.assertEqual([f["body"]["to"] for f in frames], ["bob"])
        self.assertEqual(shown, ["alice: a secret", "[Key] Not sent to: eve (no key)"])

    def test_one_encrypted_directed_message_per_member_with_a_key(self):
        self.alice.joins("bob", KEYS[1])
        self.alice.joins("carol", KEYS[2])
        frames, shown = self.alice.type("hello ✓")
        self.assertEqual(shown, ["alice: hello ✓"])
        self.assertEqual([(f["type"], f["body"]["to"], f["body"]["encrypted"]) for f in frames],
                         [("message", "bob", True), ("message", "carol", True)])
        self.assertEqual(set(frames[0]["body"]), {"content", "encrypted", "to", "seq", "sig"})
        self.assertEqual(decrypt_for(frames, "bob", KEYS[1]), "hello ✓")
        self.assertEqual(decrypt_for(frames, "carol", KEYS[2]), "hello ✓")

    def test_no_frame_ever_carries_the_text(self):
        self.alice.joins("bob", KEYS[1])
        self.alice.joins("eve")
        text = "plaintext-marker " * 100
        for line in (text, f"/msg bob {text}", f"//{text}"):
            frames, _ = self.alice.type(line)
            self.assertTrue(frames)
            for frame in frames:
                self.assertIs(frame["body"]["encrypted"], True)
                self.assertNotIn("plaintext-marker", json.dumps(frame))

    def test_plain_only_when_asked(self):
        self.alice.joins("eve")
        frames, shown = self.alice.type("/plain in the clear")
        self.assertEqual([(f["type"], f["body"]["content"], set(f["body"])) for f in frames],
                         [("message", "in the clear", {"content", "seq", "sig"})])
        self.assertEqual(shown, ["alice [unencrypted]: in the clear"])

    def test_a_long_line_in_pieces(self):
        self.alice.joins("bob", KEYS[1])
        text = "€" * 1000
        frames, _ = self.alice.type(text)
        self.assertEqual(len(frames), 15)  # 3000 bytes, 213 per piece
        self.assertEqual([f["body"]["part"] for f in frames], list(range(1, 16)))
        self.assertEqual({(f["body"]["parts"], f["body"]["line"]) for f in frames},
                         {(15, frames[0]["body"]["line"])})
        self.assertEqual(decrypt_for(frames, "bob", KEYS[1]), text)

    def test_too_long_a_line_is_not_sent(self):
        self.alice.joins("bob", KEYS[1])
        frames, _ = self.alice.type("x" * pieces.MAX_LINE_BYTES)
        self.assertEqual(len(frames), 307)
        frames, shown = self.alice.type("x" * (pieces.MAX_LINE_BYTES + 1))
        self.assertEqual(frames, [])
        self.assertRegex(shown[0], r"^\[Error\] Line too long")

    def test_commands(self):
        self.alice.joins("bob", KEYS[1])
        self.assertEqual(self.alice.type("/join other")[0], [{"type": "join", "body": {"content": "other"}}])
        self.assertEqual(self.alice.type("/leave")[0], [{"type": "leave", "body": {}}])
        frames, shown = self.alice.type("/nosuch thing")
        self.assertEqual((frames, shown), ([], ["[Error] Unknown command /nosuch (/help lists them)"]))
        frames, _ = self.alice.type("//join is text")
        self.assertEqual(decrypt_for(frames, "bob", KEYS[1]), "/join is text")
        frames, shown = self.alice.type("/msg bob just you")
        self.assertIs(frames[0]["body"]["private"], True)
        self.assertEqual(shown, ["alice (private to bob): just you"])
        self.alice.type("/quit")
        self.assertTrue(self.alice.session.quit)


class Incoming(ChatTestCase):
    def test_encrypted_plain_and_private_from_peers_that_do_not_sign(self):
        self.alice.joins("bob", KEYS[1])
        self.alice.joins("eve")
        self.alice.shown.clear()
        key = self.alice.session.private_key.public_key()
        self.alice.server("message", crypto.encrypt(key, "hi ✓".encode()), sender="bob", encrypted=True, to="alice")
        self.alice.server("message", "in clear", sender="eve")
        self.alice.server("message", crypto.encrypt(key, b"psst"), sender="bob", encrypted=True, to="alice",
                          private=True)
        self.alice.server("message", "bm90IGZvciB1cw==", sender="bob", encrypted=True, to="alice")
        # Unsigned: marked, and never "(private)", which only a signature can claim.
        self.assertEqual(self.alice.shown, ["bob [unverified]: hi ✓", "eve [unverified] [unencrypted]: in clear",
                                            "bob [unverified]: psst",
                                            "[Error] A message from bob could not be decrypted"])

    def test_pieces_from_another_chat_show_as_one_line(self):
        bob = Harness(self.config.name, KEYS[1])
        bob.enter("bob")
        bob.joins("alice", pem=crypto.announced_pem(KEYS[0]))
        self.alice.joins("bob", pem=crypto.announced_pem(KEYS[1]))
        self.alice.shown.clear()
        text = "".join(f"{i}:🙂é€ " for i in range(300))
        frames, _ = bob.type(text)
        self.assertGreater(len(frames), 10)
        for frame in frames:
            self.alice.server("message", sender="bob", **frame["body"])
        self.assertEqual(self.alice.shown, [f"bob: {text}"])

    def test_a_sender_that_leaves_mid_line(self):
        self.alice.joins("bob", KEYS[1])
        self.alice.shown.clear()
        key = KEYS[0].public_key()
        self.alice.server("message", crypto.encrypt(key, b"first half "), sender="bob", encrypted=True,
                          to="alice", line="L", part=1, parts=2)
        self.assertEqual(self.alice.shown, [])
        self.alice.server("system", "bob disconnected")
        self.assertEqual(self.alice.shown, ["[System] bob disconnected",
                                            "bob [unverified]: first half  [incomplete: pieces missing]"])

    def test_whatever_a_peer_sends_is_shown_sanitised(self):
        attack = "\x1b]0;owned\x07\x1b[2J\r\x9b31m\u202eforged\n[System] fake"
        sender = "m\x1b[31mallory"
        self.alice.joins(sender)
        self.alice.server("message", attack, sender=sender)
        self.alice.server("message", crypto.encrypt(KEYS[0].public_key(), attack.encode()), sender=sender,
                          encrypted=True, to="alice")
        self.alice.server("system", attack)
        self.alice.server("error", attack)
        self.alice.server("welcome", attack)
        self.alice.server("pubkey", "not a key", sender=sender)
        self.alice.session.handle_input("/keys")
        self.alice.session.handle_input("/who")
        self.assertGreater(len(self.alice.shown), 8)
        for line in self.alice.shown:
            self.assertIsNone(TERMINAL_CONTROL.search(line), repr(line))

    def test_a_name_taken_is_asked_again(self):
        harness = Harness(self.config.name)
        self.assertEqual(harness.session.prompt, "Choose a username: ")
        harness.session.handle_input("  ")
        self.assertEqual((harness.frames, harness.shown), ([], ["[Error] Username cannot be empty"]))
        self.assertEqual(harness.session.prompt, "Choose a username: ")
        harness.session.handle_input("alice")
        self.assertEqual(harness.frames[0]["body"]["content"], "alice")
        self.assertTrue(harness.frames[0]["body"]["pubkey"].startswith("-----BEGIN RSA PUBLIC KEY-----"))
        self.assertEqual(harness.session.prompt, "> ")
        harness.server("error", "Username already taken")
        self.assertEqual(harness.session.prompt, "Choose a username: ")
        harness.session.handle_input("alice2")
        harness.server("welcome", "Username set to: alice2")
        self.assertEqual((harness.session.name, harness.session.prompt), ("alice2", "> "))


class TrustOnFirstUse(ChatTestCase):
    def test_first_key_is_remembered_privately(self):
        self.alice.joins("bob", KEYS[1])
        path = self.alice.trust.path
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        again = TrustStore(path, "127.0.0.1:1337")
        self.assertEqual(again.known("bob"), crypto.fingerprint(KEYS[1].public_key()))
        self.assertIsNone(TrustStore(path, "elsewhere:1337").known("bob"))

    def test_same_key_next_time_is_quiet(self):
        self.alice.joins("bob", KEYS[1])
        later = Harness(self.config.name)
        later.enter()
        later.joins("bob", KEYS[1])
        self.assertEqual(later.shown, ["[System] bob joined the room", "[Key] Received public key from bob"])

    def test_pkcs1_and_spki_of_one_key_are_one_fingerprint(self):
        spki = KEYS[1].public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.alice.joins("bob", KEYS[1])
        later = Harness(self.config.name)
        later.enter()
        later.joins("bob", pem=spki)
        self.assertFalse(any("CHANGED" in line for line in later.shown), later.shown)

    def test_a_changed_key_is_announced_and_not_used_until_trusted(self):
        self.alice.joins("bob", KEYS[1])
        later = Harness(self.config.name)
        later.enter()
        later.joins("bob", KEYS[2])
        warnings = [line for line in later.shown if line.startswith("[Warning]")]
        self.assertIn("[Warning] !!! THE KEY OF bob HAS CHANGED !!!", warnings)
        self.assertTrue(any(crypto.fingerprint(KEYS[1].public_key()) in line for line in warnings))
        self.assertTrue(any(crypto.fingerprint(KEYS[2].public_key()) in line for line in warnings))
        frames, shown = later.type("for bob")
        self.assertEqual(frames, [])
        self.assertEqual(shown[-1], "[Key] Not sent to: bob (key changed: check it, then /trust bob)")
        later.type("/trust bob")
        frames, _ = later.type("for bob")
        self.assertEqual(decrypt_for(frames, "bob", KEYS[2]), "for bob")
        self.assertEqual(TrustStore(later.trust.path, "127.0.0.1:1337").known("bob"),
                         crypto.fingerprint(KEYS[2].public_key()))

    def test_weak_or_broken_keys_are_not_used(self):
        weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        self.alice.joins("bob", weak)
        self.alice.joins("carol", pem="-----BEGIN RSA PUBLIC KEY-----\ngarbage\n-----END RSA PUBLIC KEY-----\n")
        self.assertEqual(len([line for line in self.alice.shown if line.startswith("[Warning]")]), 2)
        frames, shown = self.alice.type("hello")
        self.assertEqual(frames, [])
        self.assertRegex(shown[-1], r"^\[Key\] Not sent to: bob \(unusable key: .*1024.*\), carol \(unusable key")

    def test_a_damaged_store_is_not_overwritten(self):
        path = os.path.join(self.config.name, "damaged.json")
        with open(path, "w") as f:
            f.write("{not json")
        with self.assertRaises(TrustStoreError):
            TrustStore(path, "127.0.0.1:1337")


class Signing(ChatTestCase):
    def setUp(self):
        super().setUp()
        self.bob = Harness(self.config.name, KEYS[1], server="bob's view")
        self.bob.enter("bob")
        self.bob.joins("alice", pem=crypto.announced_pem(KEYS[0]))

    def deliver(self, frames, to):
        for frame in frames:
            to.server("message", sender="alice" if to is self.bob else "bob", **frame["body"])

    def test_lines_between_two_of_our_clients_are_verified(self):
        self.alice.joins("bob", pem=crypto.announced_pem(KEYS[1]))
        frames, _ = self.bob.type("/msg alice just you")
        self.deliver(frames, self.alice)
        self.assertEqual(self.alice.shown[-1], "bob (private): just you")

    def test_a_key_known_to_sign_cannot_be_downgraded(self):
        self.alice.joins("bob", KEYS[1])  # announced without the marker
        frames, _ = self.bob.type("signed anyway")
        self.deliver(frames, self.alice)
        self.assertEqual(self.alice.shown[-1], "bob: signed anyway")
        later = Harness(self.config.name)
        later.enter()
        later.joins("bob", KEYS[1])  # the marker stripped again
        self.assertTrue(later.session.members["bob"].signs)
        later.server("message", crypto.encrypt(KEYS[0].public_key(), b"unsigned"), sender="bob",
                     encrypted=True, to="alice")
        self.assertEqual(later.shown[-1], "[Warning] Not shown: a message said to come from bob that bob did not sign")

    def test_safety_codes_match_on_both_sides(self):
        self.alice.joins("bob", pem=crypto.announced_pem(KEYS[1]))
        _, alice_sees = self.alice.type("/verify bob")
        _, bob_sees = self.bob.type("/verify alice")
        code = crypto.safety_code(KEYS[0].public_key(), KEYS[1].public_key())
        self.assertRegex(code, r"^(\d{5} ){5}\d{5}$")
        self.assertEqual(alice_sees[0], f"[Key] Safety code of you and bob: {code}")
        self.assertEqual(bob_sees[0], f"[Key] Safety code of you and alice: {code}")
        self.assertNotEqual(code, crypto.safety_code(KEYS[0].public_key(), KEYS[2].public_key()))

    def test_a_refused_key_is_told_and_not_sent_to(self):
        self.alice.joins("bob", KEYS[2])
        later = Harness(self.config.name)
        later.enter()
        later.joins("bob", pem=crypto.announced_pem(KEYS[1]))  # changed: refused, and bob is told
        [notice] = later.frames
        self.assertEqual((notice["body"]["to"], notice["body"]["notice"]), ("bob", "key-refused"))
        self.deliver([notice], self.bob)
        self.assertRegex(self.bob.shown[-1], r"^\[Key\] alice does not accept your key")
        frames, shown = self.bob.type("hello?")
        self.assertEqual(frames, [])
        self.assertRegex(shown[-1], r"^\[Key\] Not sent to: alice \(it does not accept your key")
        # Forged or replayed, a notice changes nothing.
        forged = dict(notice["body"], notice="key-accepted")
        self.bob.server("message", sender="alice", **forged)
        self.assertEqual(self.bob.shown[-1], "[Warning] Not shown: a message said to come from alice that alice did not sign")
        later.type("/trust bob")
        self.deliver(later.frames[-1:], self.bob)
        self.assertEqual(self.bob.shown[-1], "[Key] alice now accepts your key.")
        self.assertEqual(len(self.bob.type("hello!")[0]), 1)

    def test_what_is_signed_is_unambiguous(self):
        body = {"content": "c", "seq": 7, "line": "L", "part": 1, "parts": 2}
        base = signing.signed_bytes("al", "bob", "room", body)
        self.assertNotEqual(base, signing.signed_bytes("a", "lbob", "room", body))
        self.assertNotEqual(base, signing.signed_bytes("al", "bob", "room", dict(body, private=True)))
        self.assertNotEqual(base, signing.signed_bytes("al", None, "room", body))
        for bad in ({"seq": True}, {"seq": 0}, {"seq": 2 ** 63}, {"seq": "7"}, {"part": 1.0},
                    {"line": 5}, {"content": None}, {"notice": []}):
            with self.subTest(bad=bad):
                self.assertIsNone(signing.signed_bytes("al", "bob", "room", dict(body, **bad)))


class Identity(unittest.TestCase):
    def test_created_private_then_kept(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "me.pem")
            key, notice = crypto.load_or_create_identity(path)
            self.assertEqual(notice, f"created a new key pair in {path}")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            again, notice = crypto.load_or_create_identity(path)
            self.assertIsNone(notice)
            self.assertEqual(crypto.public_pem(again), crypto.public_pem(key))
            os.chmod(path, 0o644)
            self.assertIn("readable by others", crypto.load_or_create_identity(path)[1])


class ComingBack(unittest.TestCase):
    """The session's side of a reconnect (comeback.py), frame by frame."""

    def setUp(self):
        self.config = tempfile.TemporaryDirectory()
        self.addCleanup(self.config.cleanup)
        self.alice = Harness(self.config.name)
        self.alice.session.handle_input("alice")
        self.alice.server("welcome", "Username set to: alice", resume="a" * 32)
        self.alice.server("welcome", "Created and joined room: lobby")
        self.alice.joins("bob", KEYS[1])
        self.alice.frames.clear()
        self.alice.shown.clear()

    def lose(self):
        self.alice.session.connection_lost()
        self.alice.frames.clear()

    def test_offline_lines_are_queued_and_room_commands_refused(self):
        self.lose()
        self.assertEqual(self.alice.session.prompt, "(reconnecting) > ")
        for line, shown in (("hello", "[Offline] Queued, sent once reconnected: hello"),
                            ("/plain hi", "[Offline] Queued, sent once reconnected: /plain hi"),
                            ("/leave", "[Error] Not connected: /leave is refused until reconnected"
                                       " (lines, /msg and /plain are queued)"),
                            ("/trust bob", "[Error] Not connected: /trust is refused until reconnected"
                                           " (lines, /msg and /plain are queued)")):
            with self.subTest(line=line):
                self.assertEqual(self.alice.type(line), ([], [shown]))
        _, shown = self.alice.type("/keys")
        self.assertEqual(len(shown), 2)
        too_long = "x" * (pieces.MAX_LINE_BYTES + 1)
        self.assertEqual(self.alice.type(too_long), ([], [
            f"[Error] Line too long ({pieces.MAX_LINE_BYTES + 1} bytes, at most {pieces.MAX_LINE_BYTES}): not queued"]))
        self.assertEqual(len(self.alice.session.comeback.queue), 2)

    def test_the_resume_sends_the_token_and_the_probe(self):
        self.lose()
        self.alice.session.attach(self.alice.frames.append)
        self.assertEqual(self.alice.frames, [{"type": "username", "body": {
            "content": "alice", "pubkey": self.alice.session.announced_key, "resume": "a" * 32}}])
        self.alice.server("welcome", "Username set to: alice", resume="b" * 32)
        self.assertEqual(self.alice.frames[-1], {"type": "create", "body": {"content": "lobby"}})
        self.alice.server("welcome", "Joined room: lobby")
        self.alice.server("pubkey", crypto.public_pem(KEYS[1]), sender="bob")
        self.alice.server("error", "Leave current room first")
        self.assertEqual(self.alice.shown, ["[Reconnected]"])
        self.assertEqual(self.alice.session.prompt, "> ")
        self.lose()
        self.alice.session.attach(self.alice.frames.append)
        self.assertEqual(self.alice.frames[0]["body"]["resume"], "b" * 32)

    def test_a_welcome_without_a_token_resumes_nothing(self):
        self.alice.server("welcome", "Username set to: alice")
        self.lose()
        self.alice.session.attach(self.alice.frames.append)
        self.assertNotIn("resume", self.alice.frames[0]["body"])


if __name__ == "__main__":
    unittest.main()
