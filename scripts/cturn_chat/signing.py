"""Signed messages: who wrote a line, to whom, in which room, and in which order.

Every `message` frame this client sends carries two more body fields, which
the server relays untouched and client.js ignores: `seq`, a number that
grows with every frame the sender sends, and `sig`, the sender's RSA-PSS
(SHA-256) signature, with the key it announced and that peers pinned, over

    ["cturn signed message v1", sender, recipient, room, seq,
     line, part, parts, encrypted, private, notice, content]

as compact ASCII JSON: a domain-separating label first, then each field in
a fixed place, strings quoted and escaped, so no two different messages sign
the same bytes. `recipient` is the `to` field (null for a line to the whole
room), `content` the ciphertext (or the text of a /plain line); the receiver
rebuilds the list from what it received, its own name and its own room.

`seq` starts from the clock (microseconds since 1970) and grows by one at
least per frame, so it also grows across restarts of the sender; a receiver
accepts from each sender only a seq greater than the last it accepted."""

import json
import time
from collections import OrderedDict

from . import crypto

DOMAIN = "cturn signed message v1"
MAX_SEQ = 2 ** 63 - 1
# Senders whose last seq is kept; the oldest is forgotten beyond it.
MAX_TRACKED_SENDERS = 4096


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def signed_bytes(sender, recipient, room, body):
    """The bytes the signature of `body` covers, or None when a field has a
    type no signing sender writes."""
    seq, content = body.get("seq"), body.get("content")
    line, part, parts, notice = (body.get(k) for k in ("line", "part", "parts", "notice"))
    if not (_is_int(seq) and 0 < seq <= MAX_SEQ and isinstance(content, str)):
        return None
    if not all(v is None or isinstance(v, str) for v in (recipient, room, line, notice)):
        return None
    if not all(v is None or _is_int(v) for v in (part, parts)):
        return None
    fields = [DOMAIN, sender, recipient, room, seq, line, part, parts,
              body.get("encrypted") is True, body.get("private") is True, notice, content]
    return json.dumps(fields, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class Signer:
    def __init__(self, private_key):
        self._key = private_key
        self._last_seq = 0

    def sign(self, body, sender, room):
        """`body` with its `seq` and `sig` added."""
        self._last_seq = max(self._last_seq + 1, time.time_ns() // 1000)
        body["seq"] = self._last_seq
        body["sig"] = crypto.sign(self._key, signed_bytes(sender, body.get("to"), room, body))
        return body


def verify(public_key, sender, recipient, room, body):
    """Whether `body` carries `public_key`'s valid signature for these."""
    data = signed_bytes(sender, recipient, room, body)
    signature = body.get("sig")
    return data is not None and isinstance(signature, str) and crypto.verify(public_key, signature, data)


class ReplayGuard:
    """The last seq accepted from each sender, for as long as this client
    runs (at most MAX_TRACKED_SENDERS senders)."""

    def __init__(self, limit=MAX_TRACKED_SENDERS):
        self._last = OrderedDict()
        self._limit = limit

    def accept(self, sender, seq):
        """True, and remembered, when `seq` is newer than any seen from `sender`."""
        if seq <= self._last.get(sender, 0):
            return False
        self._last[sender] = seq
        self._last.move_to_end(sender)
        while len(self._last) > self._limit:
            self._last.popitem(last=False)
        return True
