"""End to end like the reference Node client: RSA keys exchanged through
`pubkey` frames, one RSA-OAEP encrypted directed message per recipient."""

import base64
import unittest

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cturn_client import expect_quiet
from cturn_testcase import ServerTestCase

# Node's crypto.publicEncrypt default: OAEP with SHA-1.
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


class Peer:
    """A chat user with an RSA key pair and the public keys it has learnt."""

    def __init__(self, client):
        self.client = client
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.peers = {}  # username -> public key

    @property
    def name(self):
        return self.client.name

    def public_pem(self):
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    async def learn_key(self):
        frame = await self.client.expect("pubkey")
        self.peers[frame.sender] = serialization.load_pem_public_key(frame.content.encode())

    async def send_to_all(self, text, recipients):
        for name in recipients:
            ciphertext = self.peers[name].encrypt(text.encode(), OAEP)
            await self.client.say(base64.b64encode(ciphertext).decode(), to=name)

    async def receive(self, sender):
        frame = await self.client.expect("message", sender=sender)
        if frame.body.get("to") != self.name:
            raise AssertionError(f"message for {frame.body.get('to')!r} reached {self.name!r}")
        return self.private_key.decrypt(base64.b64decode(frame.content), OAEP).decode()


class RealClient(ServerTestCase):
    async def peer(self, name):
        client = await self.connect(label=name)
        peer = Peer(client)
        await client.register(name, pubkey=peer.public_pem())
        return peer

    async def test_encrypted_conversation(self):
        alice, bob, carol = [await self.peer(name) for name in ("alice", "bob", "carol")]
        await alice.client.create("secret")
        await bob.client.join("secret")
        await bob.learn_key()
        await alice.client.expect_system("bob joined the room")
        await alice.learn_key()
        await carol.client.join("secret")
        await carol.learn_key()
        await carol.learn_key()
        for member in (alice, bob):
            await member.client.expect_system("carol joined the room")
            await member.learn_key()
        self.assertEqual(set(alice.peers), {"bob", "carol"})
        self.assertEqual(set(bob.peers), {"alice", "carol"})
        self.assertEqual(set(carol.peers), {"alice", "bob"})

        await alice.send_to_all("hello from alice", ["bob", "carol"])
        self.assertEqual(await bob.receive("alice"), "hello from alice")
        self.assertEqual(await carol.receive("alice"), "hello from alice")
        await bob.send_to_all("hi, it's bob ✓", ["alice", "carol"])
        self.assertEqual(await alice.receive("bob"), "hi, it's bob ✓")
        self.assertEqual(await carol.receive("bob"), "hi, it's bob ✓")
        await expect_quiet(alice.client, bob.client, carol.client)

        # Bob leaves; alice's client still encrypts for him, the server drops it.
        await bob.client.leave()
        await alice.client.expect_system("bob left the room")
        await carol.client.expect_system("bob left the room")
        await alice.send_to_all("bob is gone", ["bob", "carol"])
        self.assertEqual(await carol.receive("alice"), "bob is gone")
        await expect_quiet(alice.client, bob.client, carol.client)

    async def test_ciphertext_is_relayed_intact(self):
        alice, bob = await self.peer("alice"), await self.peer("bob")
        await alice.client.create("secret")
        await bob.client.join("secret")
        await bob.learn_key()
        await alice.client.expect_system("bob joined the room")
        await alice.learn_key()
        ciphertext = base64.b64encode(alice.peers["bob"].encrypt(b"x" * 200, OAEP)).decode()
        raw = '{"content":"%s","to":"bob","encrypted":true}' % ciphertext
        await alice.client.send(b'{"type":"message","body":%s}\n' % raw.encode())
        frame = await bob.client.expect_message("alice", raw_body=raw)
        self.assertEqual(bob.private_key.decrypt(base64.b64decode(frame.content), OAEP), b"x" * 200)
        await expect_quiet(alice.client, bob.client)


if __name__ == "__main__":
    unittest.main()
