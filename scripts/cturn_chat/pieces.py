"""Long lines in pieces, and the pieces put back together.

RSA-OAEP with SHA-1 holds at most k - 42 bytes (214 for a 2048-bit key), so
a longer line travels as several messages. Every piece is whole UTF-8: a
client.js peer prints each one as a line of its own, and must never see half
a character. Python peers recognise the pieces of one line by three extra
body fields, which the server relays untouched and client.js ignores:
`line` (an id the sender picks per line), `part` (1-based) and `parts`.
A line that fits in one piece carries none of them."""

import secrets
from dataclasses import dataclass

# The server's default --max-line-bytes: the longest line the client sends.
MAX_LINE_BYTES = 65536
# Unencrypted lines (/plain) need pieces too: a whole 64 KiB line plus its
# JSON envelope would pass the server's line limit. 8 KiB stays far below it
# even if JSON escaping made every byte six.
PLAIN_PIECE_BYTES = 8192
# More pieces than a line of MAX_LINE_BYTES can need (its smallest pieces
# hold 211 bytes): a peer announcing more is not followed.
MAX_PARTS = 512
MAX_LINE_ID = 64
# What reassembly may hold, whatever the server sends: a line that grows past
# the longest line is released as it is; beyond the senders or the bytes
# below, the oldest pending line is released.
MAX_PENDING_LINE_BYTES = MAX_LINE_BYTES
MAX_PENDING_SENDERS = 64
MAX_PENDING_BYTES = 4 * 1024 * 1024


def split(text, limit):
    """The UTF-8 bytes of `text` in pieces of at most `limit` bytes, each cut
    before a character's first byte, never inside a character."""
    if limit < 4:
        raise ValueError("a piece must hold the longest UTF-8 character (4 bytes)")
    data = text.encode("utf-8")
    pieces = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte
            end -= 1
        pieces.append(data[start:end])
        start = end
    return pieces


def new_line_id():
    return secrets.token_hex(4)


def piece_fields(line_id, index, count):
    """The body fields that mark piece `index` (0-based) of `count`."""
    if count == 1:
        return {}
    return {"line": line_id, "part": index + 1, "parts": count}


def fields_of(body):
    """(line, part, parts) from a message body, or None for a whole line or
    for fields no well-behaved sender writes."""
    line, part, parts = body.get("line"), body.get("part"), body.get("parts")
    if line is None and part is None and parts is None:
        return None
    # bool is an int in Python; JSON true is no piece number.
    if not (isinstance(line, str) and 0 < len(line) <= MAX_LINE_ID):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (part, parts)):
        return None
    if not 1 <= part <= parts <= MAX_PARTS:
        return None
    return line, part, parts


@dataclass
class Line:
    sender: str
    data: bytes
    kind: object   # whatever the caller groups pieces by (encrypted or not, private...)
    complete: bool  # False when pieces are missing

    @property
    def text(self):
        return self.data.decode("utf-8", "replace")


@dataclass
class _Pending:
    line_id: str
    parts: int
    kind: object
    next_part: int
    chunks: list
    intact: bool
    size: int = 0


class Reassembler:
    """Joins each sender's pieces. The server keeps one sender's frames in
    order, so one pending line per sender is enough; anything that breaks the
    sequence (a missing, repeated or foreign piece) releases what was
    gathered, marked incomplete, rather than holding it or guessing. What it
    holds is bounded (MAX_PENDING_*): past a bound, the oldest pending line
    is released, marked incomplete."""

    def __init__(self, max_line_bytes=MAX_PENDING_LINE_BYTES, max_senders=MAX_PENDING_SENDERS,
                 max_bytes=MAX_PENDING_BYTES):
        self._pending = {}  # in the order the lines began
        self._max_line_bytes, self._max_senders, self._max_bytes = max_line_bytes, max_senders, max_bytes
        self._bytes = 0

    def add(self, sender, data, kind, fields):
        """Lines ready to show after this piece: none, one, or an
        incomplete one released by this piece and then this one."""
        ready = []
        pending = self._pending.get(sender)
        if pending is not None and (
                fields is None or (fields[0], fields[2], kind) != (pending.line_id, pending.parts, pending.kind)
                or fields[1] != pending.next_part):
            ready.extend(self.release(sender))
            pending = None
        if fields is None:
            ready.append(Line(sender, data, kind, True))
            return ready
        line_id, part, parts = fields
        if pending is None:
            pending = _Pending(line_id, parts, kind, part, [], intact=part == 1)
            self._pending[sender] = pending
        pending.chunks.append(data)
        pending.size += len(data)
        self._bytes += len(data)
        pending.next_part = part + 1
        if part == parts:
            self._forget(sender)
            ready.append(Line(sender, b"".join(pending.chunks), kind, pending.intact))
        elif pending.size > self._max_line_bytes:
            ready.extend(self.release(sender))
        while self._pending and (len(self._pending) > self._max_senders or self._bytes > self._max_bytes):
            ready.extend(self.release(next(iter(self._pending))))
        return ready

    def _forget(self, sender):
        pending = self._pending.pop(sender, None)
        if pending is not None:
            self._bytes -= pending.size
        return pending

    def release(self, sender):
        """What `sender` left unfinished (it left, or broke its sequence)."""
        pending = self._forget(sender)
        if pending is None:
            return []
        return [Line(sender, b"".join(pending.chunks), pending.kind, False)]

    def release_all(self):
        return [line for sender in list(self._pending) for line in self.release(sender)]
