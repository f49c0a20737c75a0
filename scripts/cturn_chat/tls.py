"""TLS to the server: who are we talking to?

--tls checks the server's certificate against the system's CAs, or against
--tls-ca FILE, and its name against --host, as a browser would. A server
with a self-signed certificate is trusted with --tls-pin instead, on first
use: the SHA-256 of its public key is remembered for `host:port` in
$XDG_CONFIG_HOME/cturn/known_servers.json (beside known_keys.json), and a
different key later is refused with a loud warning, until the user accepts
it with --tls-repin. The public key, not the certificate, is pinned: a
certificate renewed for the same key is still the same server."""

import hashlib
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from . import json_file
from .paths import config_path


class TlsRefused(Exception):
    """The server is not the one we trust; the message says why, for the user."""


def default_pin_path():
    return config_path("known_servers.json")


def public_key_fingerprint(certificate_der):
    """SHA-256 of the certificate's SubjectPublicKeyInfo, as hex."""
    key = x509.load_der_x509_certificate(certificate_der).public_key()
    spki = key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def spaced(fingerprint):
    return ":".join(fingerprint[i:i + 4] for i in range(0, len(fingerprint), 4))


class PinStore:
    """Server public-key pins, {"host:port": "sha256 hex"}, mode 0600."""

    def __init__(self, path):
        self.path = path

    def _load(self):
        data = json_file.read(self.path, TlsRefused)
        if not isinstance(data, dict):
            raise TlsRefused(f"{self.path} is not a known-servers file; repair or remove it")
        return data

    def get(self, server):
        return self._load().get(server)

    def put(self, server, fingerprint):
        data = self._load()
        data[server] = fingerprint
        json_file.write(self.path, data)


def client_context(cafile=None, pinned=False):
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if pinned:
        # The pin is the check: a self-signed certificate has no CA to verify.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def wrap(sock, host, port, *, cafile=None, pin_store=None, repin=False, show=print):
    """The TLS socket over `sock`, its handshake done (blocking, with the
    socket's timeout). Raises TlsRefused or ssl.SSLError."""
    context = client_context(cafile, pinned=pin_store is not None)
    secure = context.wrap_socket(sock, server_hostname=host)
    if pin_store is None:
        return secure
    server = f"{host}:{port}"
    try:
        fingerprint = public_key_fingerprint(secure.getpeercert(binary_form=True))
        known = pin_store.get(server)
    except BaseException:
        secure.close()
        raise
    if known is None or (repin and known != fingerprint):
        pin_store.put(server, fingerprint)
        show(f"[TLS] Pinned the key of {server}: {spaced(fingerprint)}")
    elif known != fingerprint:
        secure.close()
        raise TlsRefused(
            f"!!! THE TLS KEY OF {server} HAS CHANGED !!!\n"
            f"Pinned:    {spaced(known)}\n"
            f"Presented: {spaced(fingerprint)}\n"
            "Someone may be intercepting the connection, or the server got a new key. "
            "Not connected. If you know the key changed, run again with --tls-repin.")
    return secure

