"""Our RSA-OAEP is Node's crypto.publicEncrypt/privateDecrypt default, in
both directions, proved against Node itself: Node encrypts for our PKCS#1
public key and we decrypt; we encrypt for Node's key and Node decrypts."""

import base64
import json
import subprocess
import unittest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from chat_process import node_path
from cturn_chat import crypto

TEXTS = ["hello", "ünïcödé €uro 🙂", "x" * crypto.PIECE_BYTES, "é" * (crypto.PIECE_BYTES // 2)]

# Run once per step; only Node's built-in modules, its defaults untouched.
NODE_ENCRYPT = r"""
const crypto = require("crypto");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
console.log(JSON.stringify({
  ciphertexts: input.texts.map((t) =>
    crypto.publicEncrypt(input.publicKey, Buffer.from(t, "base64")).toString("base64")),
  publicKey: publicKey.export({ type: "pkcs1", format: "pem" }),
  privateKey: privateKey.export({ type: "pkcs1", format: "pem" }),
}));
"""
NODE_LONGEST = r"""
const crypto = require("crypto");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(input.sizes.map((n) => {
  try { crypto.publicEncrypt(input.publicKey, Buffer.alloc(n)); return "fits"; } catch (e) { return "too long"; }
})));
"""
NODE_DECRYPT = r"""
const crypto = require("crypto");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(input.ciphertexts.map((c) =>
  crypto.privateDecrypt(input.privateKey, Buffer.from(c, "base64")).toString("base64"))));
"""


def run_node(script, data):
    result = subprocess.run([node_path(), "-e", script], input=json.dumps(data), capture_output=True,
                            text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"node failed: {result.stderr}")
    return json.loads(result.stdout)


def b64(text):
    return base64.b64encode(text.encode()).decode()


@unittest.skipIf(node_path() is None, "node is not installed: the crypto interoperability test needs it")
class NodeCrypto(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.private_key = crypto.generate_private_key()
        cls.node = run_node(NODE_ENCRYPT, {"publicKey": crypto.public_pem(cls.private_key),
                                           "texts": [b64(t) for t in TEXTS]})

    def test_our_public_key_is_pkcs1_pem_like_nodes(self):
        for pem in (crypto.public_pem(self.private_key), self.node["publicKey"]):
            self.assertTrue(pem.startswith("-----BEGIN RSA PUBLIC KEY-----\n"), pem)

    def test_we_decrypt_what_node_encrypted_by_default(self):
        for text, ciphertext in zip(TEXTS, self.node["ciphertexts"]):
            self.assertEqual(crypto.decrypt(self.private_key, ciphertext).decode(), text)

    def test_nodes_default_is_sha1_for_oaep_and_mgf1(self):
        ciphertext = base64.b64decode(self.node["ciphertexts"][0])
        sha1, sha256 = hashes.SHA1(), hashes.SHA256()
        self.assertEqual(self.private_key.decrypt(ciphertext, padding.OAEP(padding.MGF1(sha1), sha1, None)),
                         TEXTS[0].encode())
        for mgf_hash, oaep_hash in ((sha256, sha256), (sha256, sha1), (sha1, sha256)):
            with self.subTest(mgf=mgf_hash.name, oaep=oaep_hash.name), self.assertRaises(ValueError):
                self.private_key.decrypt(ciphertext, padding.OAEP(padding.MGF1(mgf_hash), oaep_hash, None))

    def test_node_decrypts_what_we_encrypted(self):
        node_key = crypto.load_public_key(self.node["publicKey"])
        ciphertexts = [crypto.encrypt(node_key, t.encode()) for t in TEXTS]
        decrypted = run_node(NODE_DECRYPT, {"privateKey": self.node["privateKey"], "ciphertexts": ciphertexts})
        self.assertEqual([base64.b64decode(d).decode() for d in decrypted], TEXTS)

    def test_a_piece_is_the_most_node_can_encrypt(self):
        sizes = [crypto.PIECE_BYTES, crypto.PIECE_BYTES + 1]
        self.assertEqual(run_node(NODE_LONGEST, {"publicKey": self.node["publicKey"], "sizes": sizes}),
                         ["fits", "too long"])


if __name__ == "__main__":
    unittest.main()
