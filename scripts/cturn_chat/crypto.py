"""RSA keys and RSA-OAEP exactly as client.js uses them.

client.js calls `crypto.publicEncrypt(pem, buffer)` and
`crypto.privateDecrypt(key, buffer)` without options, whose default padding
is RSA_PKCS1_OAEP_PADDING with SHA-1 as both the OAEP hash and the MGF1 hash
and an empty label; tests/chat/test_chat_node_crypto.py proves it against
Node itself. Its public keys are PKCS#1 PEM ("BEGIN RSA PUBLIC KEY"); we
send ours the same way and read both PKCS#1 and SubjectPublicKeyInfo.

Our client also signs what it sends, with the same key (RSA-PSS, SHA-256):
see signing.py. It says so with one line after the PEM block, which
OpenSSL's PEM reader (Node's, and ours) skips."""

import base64
import binascii
import hashlib
import os
import stat

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
OAEP_OVERHEAD = 2 * hashes.SHA1.digest_size + 2
# Smaller keys are breakable or nearly so, and would hold pieces too small
# for the piece size every recipient shares.
MIN_PEER_KEY_BITS = 2048
PIECE_BYTES = MIN_PEER_KEY_BITS // 8 - OAEP_OVERHEAD  # 214


PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)
SIGNS_MARKER = "CTurn-Signs: rsa-pss-sha256"
SAFETY_CODE_DOMAIN = b"cturn safety code v1\0"


class BadKey(ValueError):
    """A public key we will not encrypt for."""


class BadCiphertext(ValueError):
    """A message that does not decrypt with our key."""


def generate_private_key():
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)


def public_pem(private_key):
    """Our public key as client.js sends its own: PKCS#1 PEM."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode("ascii")


def announced_pem(private_key):
    """What we send as our public key: the PKCS#1 PEM and the line saying
    that every message we send is signed with it."""
    return public_pem(private_key) + SIGNS_MARKER + "\n"


def announces_signing(pem):
    return SIGNS_MARKER in pem.splitlines()


def sign(private_key, data):
    return base64.b64encode(private_key.sign(data, PSS, hashes.SHA256())).decode("ascii")


def verify(public_key, signature, data):
    """Whether `signature` (base64) is `public_key`'s RSA-PSS signature of `data`."""
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        public_key.verify(raw, data, PSS, hashes.SHA256())
        return True
    except (InvalidSignature, ValueError, UnicodeEncodeError, binascii.Error):
        return False


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def safety_code(key_a, key_b):
    """30 digits in groups of five that two people compute alike from their
    two public keys, whichever side computes it: SHA-256 over both DER keys,
    sorted and length-prefixed, each 5-byte group of the digest taken modulo
    100000 (as Signal's safety numbers do)."""
    digest = hashlib.sha256(SAFETY_CODE_DOMAIN + b"".join(
        len(der).to_bytes(4, "big") + der for der in sorted((_spki(key_a), _spki(key_b))))).digest()
    return " ".join(f"{int.from_bytes(digest[i:i + 5], 'big') % 100000:05}" for i in range(0, 30, 5))


def load_public_key(pem):
    """A peer's public key from PKCS#1 or SubjectPublicKeyInfo PEM."""
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise BadKey(f"not a PEM public key ({exc.__class__.__name__})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadKey("not an RSA key")
    if key.key_size < MIN_PEER_KEY_BITS:
        raise BadKey(f"RSA key of {key.key_size} bits, fewer than {MIN_PEER_KEY_BITS}")
    return key


def fingerprint(public_key):
    """SHA-256 of the key's DER SubjectPublicKeyInfo, in groups of four hex
    digits: the same key gives the same fingerprint whichever PEM flavour
    carried it, and `openssl pkey -pubin -outform DER | sha256sum` checks it."""
    digest = hashlib.sha256(_spki(public_key)).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def encrypt(public_key, data):
    """Base64 of RSA-OAEP(SHA-1) of `data` (at most PIECE_BYTES bytes)."""
    return base64.b64encode(public_key.encrypt(data, OAEP)).decode("ascii")


def decrypt(private_key, text):
    try:
        ciphertext = base64.b64decode(text.encode("ascii"), validate=True)
        return private_key.decrypt(ciphertext, OAEP)
    except (ValueError, UnicodeEncodeError, binascii.Error):
        raise BadCiphertext("does not decrypt with this client's key") from None


def load_or_create_identity(path):
    """The private key kept in `path`, created there (mode 0600, its
    directory 0700 if new) on first use. Returns (key, notice) where notice
    says what happened or what is wrong."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_PEER_KEY_BITS:
            raise BadKey(f"{path}: not an RSA private key of at least {MIN_PEER_KEY_BITS} bits")
        notice = None
        if os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            notice = f"{path} is readable by others: chmod 600 {path}"
        return key, notice
    key = generate_private_key()
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    return key, f"created a new key pair in {path}"
