"""A scripted CTurn client for integration tests (asyncio, standard library only).

    client = await Client.connect(host, port)        # or ServerTestCase.connect()/user()
    await client.register("alice", pubkey=pem)       # expects the welcome
    await client.send(command("create", "lobby"), b"raw bytes\n")  # one write
    await client.expect("system", "alice created the room")
    await client.expect_error("Room already exists")
    await client.expect_nothing(after=[other])       # nothing pending, proved by a barrier
    await expect_quiet(alice, bob, carol)            # the same for several clients at once
    await client.expect_closed()                     # EOF or reset, nothing before it

Every `expect*` method raises AssertionError with the client's label and the
offending frame, so a failing test says who saw what. Every received line is
checked against the server frame shape (see Frame). CTURN_TEST_TIMEOUT_SCALE
multiplies all default timeouts (slow machines, sanitizers).

"Nothing arrives" is proved with a barrier, not by waiting: the server
handles every command on one strand, in order, and queues the frames a
command causes before it handles the next one, and each client receives its
frames in the order they were queued. So once the barrier (BARRIER: lines the
server answers in any state, changing nothing) of every client whose earlier
commands could send us something has been answered, the answer to our own
barrier must be our very next frame; anything queued for us before it shows
up first. `barrier()` is that round trip, `expect_nothing(after=...)` one
client, `expect_quiet(*clients)` several, whatever each of them sent before
(messages get no reply, so their sender needs the barrier too).

`expect_nothing_for(seconds)` waits instead, which proves nothing on a slow
(sanitizer) build; it is only for where a barrier cannot be sent: a partial
line is pending (the barrier would complete it), the server is closing the
connection, or only time can tell (a timer that must not fire). A client
that has disconnected cannot send a barrier: ServerTestCase.disconnect_handled
waits until the server has handled its disconnect instead.
"""

import asyncio
import json
import os
import re
import socket
import ssl
import struct
import time

import tls_material

# Generous by default: the suite also runs under ASan and TSan.
TIMEOUT_SCALE = float(os.environ.get("CTURN_TEST_TIMEOUT_SCALE", "1"))
DEFAULT_TIMEOUT = 5.0 * TIMEOUT_SCALE
READ_LIMIT = 64 * 1024 * 1024
ASCII_WHITESPACE = " \t\n\v\f\r"
RESUME_TOKEN = re.compile("[0-9a-f]{32}")

_NOT_GIVEN = object()

# Answered in every state (before or after the username, in a room or not)
# and changing nothing. Two lines with different answers, so that a stray
# frame looking like the first answer still shows up as out of place.
BARRIER = b"{\n[]\n"
BARRIER_ANSWERS = tuple({"type": "error", "body": {"content": text}}
                        for text in ("Invalid JSON format", "Invalid message format"))


def command(type_, content=_NOT_GIVEN, **body):
    """Build a client frame; `body` holds extra body fields (pubkey, to, iv, ...)."""
    if content is not _NOT_GIVEN:
        body = {"content": content, **body}
    return {"type": type_, "body": body}


def encode(frame):
    """A dict becomes compact JSON + "\\n"; str/bytes are sent exactly as given."""
    if isinstance(frame, bytes):
        return frame
    if isinstance(frame, str):
        return frame.encode()
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def short(value, limit=300):
    """repr() cut to `limit` characters, so a 60 KB frame does not flood a failure message."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


class Frame(dict):
    """A decoded server frame; `raw` is the line as received, without its newline."""

    def __init__(self, raw):
        objects = []  # every decoded object's key/value pairs; the outermost comes last

        def keep_pairs(pairs):
            objects.append(pairs)
            return dict(pairs)

        try:
            value = json.loads(raw.decode("utf-8"), object_pairs_hook=keep_pairs)
        except (UnicodeDecodeError, ValueError) as exc:
            raise AssertionError(f"server sent a line that is not UTF-8 JSON ({exc}): {short(raw)}")
        if not isinstance(value, dict):
            raise AssertionError(f"server sent a frame that is not an object: {short(raw)}")
        super().__init__(value)
        self.raw = raw
        top_keys = [key for key, _ in objects[-1]]
        if len(top_keys) != len(set(top_keys)):
            raise AssertionError(f"server frame with duplicate keys: {short(raw)}")
        self._check_shape()
        # The resume token of a welcome to `username` is random: it is kept
        # aside (checked for its form above) so that tests compare the rest.
        self.resume = self.body.pop("resume", None) if self.type == "welcome" else None

    @property
    def type(self):
        return self.get("type")

    @property
    def sender(self):
        return self.get("sender")

    @property
    def body(self):
        return self.get("body")

    @property
    def content(self):
        body = self.get("body")
        return body.get("content") if isinstance(body, dict) else None

    def _check_shape(self):
        # Every server frame is {"type":T,"body":{"content":C}}, plus "sender"
        # for message and pubkey; a relayed message body is the client's own.
        def fail(why):
            raise AssertionError(f"malformed server frame ({why}): {short(self.raw)}")

        if not isinstance(self.type, str):
            fail("type is not a string")
        has_sender = self.type in ("message", "pubkey")
        expected_keys = {"type", "body", "sender"} if has_sender else {"type", "body"}
        if set(self) != expected_keys:
            fail(f"keys {sorted(self)} instead of {sorted(expected_keys)}")
        if has_sender and not isinstance(self.sender, str):
            fail("sender is not a string")
        if not isinstance(self.body, dict):
            fail("body is not an object")
        if self.type != "message":
            keys = set(self.body)
            if self.type == "welcome" and str(self.content).startswith("Username set to: "):
                # The answer to `username` carries a resume token (docs/protocol.md).
                token = self.body.get("resume")
                if not (isinstance(token, str) and RESUME_TOKEN.fullmatch(token)):
                    fail("a username's welcome without a resume token of 32 lowercase hex digits")
                keys.discard("resume")
            if keys != {"content"} or not isinstance(self.content, str):
                fail('body is not {"content": <string>}')

    def __repr__(self):
        return short(self.raw.decode("utf-8", "backslashreplace"))


class Client:
    def __init__(self, reader, writer, label):
        self.reader = reader
        self.writer = writer
        self.label = label
        self.local_port = writer.get_extra_info("sockname")[1]  # names the connection in the server log
        self.name = None  # username once registered
        self.pubkey = None
        self.room = None
        self.resume = None  # the resume token of the last welcome to `username`

    def __repr__(self):
        return f"<Client {self.label}>"

    @classmethod
    async def connect(cls, host, port, *, label=None, rcvbuf=None, source=None,
                      timeout=DEFAULT_TIMEOUT, tls=_NOT_GIVEN):
        """Open a connection. `rcvbuf` shrinks the kernel receive buffer (slow-consumer tests);
        `source` is the local address to connect from (e.g. 127.0.0.2: all of 127/8 is loopback);
        `tls` an ssl.SSLContext to speak TLS with, or None for plain TCP (by default TLS with the
        test certificate when CTURN_TEST_TLS=1)."""
        if tls is _NOT_GIVEN:
            tls = tls_material.client_context() if tls_material.TLS_MODE else None
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            if source is not None:
                sock.bind((source, 0))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, port)), timeout)
            secure = {} if tls is None else {"ssl": tls, "server_hostname": tls_material.HOSTNAME,
                                             "ssl_handshake_timeout": timeout}
            reader, writer = await asyncio.open_connection(sock=sock, limit=READ_LIMIT, **secure)
        except BaseException:
            sock.close()
            raise
        return cls(reader, writer, label or f"client:{sock.getsockname()[1]}")

    def _fail(self, message):
        raise AssertionError(f"[{self.label}] {short(message, 2000)}")

    # -- sending ---------------------------------------------------------

    async def send(self, *frames):
        """Send frames (dicts, str or bytes) pipelined in one write."""
        self.writer.write(b"".join(encode(f) for f in frames))
        await self.writer.drain()

    async def send_chunked(self, data, chunk_size=1, pause=0.001):
        """Send `data` (a frame or bytes) in small pieces with pauses, to split it over reads."""
        data = encode(data)
        for i in range(0, len(data), chunk_size):
            self.writer.write(data[i:i + chunk_size])
            await self.writer.drain()
            await asyncio.sleep(pause)

    # -- receiving -------------------------------------------------------

    async def recv_line(self, timeout=DEFAULT_TIMEOUT):
        """Next raw line including its newline; b"" on EOF (a partial line at EOF lacks the newline)."""
        try:
            return await asyncio.wait_for(self.reader.readline(), timeout)
        except asyncio.TimeoutError:
            self._fail(f"no frame within {timeout:.1f} s")
        except ConnectionError as exc:
            self._fail(f"connection error while waiting for a frame: {exc!r}")

    async def recv(self, timeout=DEFAULT_TIMEOUT):
        line = await self.recv_line(timeout)
        if not line:
            self._fail("server closed the connection while a frame was expected")
        if not line.endswith(b"\n"):
            self._fail(f"partial line before EOF: {short(line)}")
        return Frame(line[:-1])

    async def expect(self, type_, content=None, sender=None, *, body=None, timeout=DEFAULT_TIMEOUT):
        """Receive the next frame and check it; None means "any value" for content/sender/body."""
        frame = await self.recv(timeout)
        mismatches = []
        if frame.type != type_:
            mismatches.append(f"type {frame.type!r} != {type_!r}")
        if content is not None and frame.content != content:
            mismatches.append(f"content {short(frame.content)} != {short(content)}")
        if sender is not None and frame.sender != sender:
            mismatches.append(f"sender {frame.sender!r} != {sender!r}")
        if body is not None and frame.body != body:
            mismatches.append(f"body {short(frame.body)} != {short(body)}")
        if mismatches:
            self._fail(f"unexpected frame {frame!r}: " + "; ".join(mismatches))
        return frame

    async def expect_error(self, text, timeout=DEFAULT_TIMEOUT):
        return await self.expect("error", text, timeout=timeout)

    async def expect_system(self, text, timeout=DEFAULT_TIMEOUT):
        return await self.expect("system", text, timeout=timeout)

    async def expect_welcome(self, text, timeout=DEFAULT_TIMEOUT):
        return await self.expect("welcome", text, timeout=timeout)

    async def expect_message(self, sender, body=None, *, raw_body=None, timeout=DEFAULT_TIMEOUT):
        """A relayed message; `raw_body` (bytes/str) must appear verbatim in the line."""
        if isinstance(raw_body, str):
            raw_body = raw_body.encode()
        if raw_body is not None and body is None:
            body = json.loads(raw_body)
        frame = await self.expect("message", sender=sender, body=body, timeout=timeout)
        if raw_body is not None and raw_body not in frame.raw:
            self._fail(f"body not relayed byte-exactly: sent {short(raw_body)}, got line {short(frame.raw)}")
        return frame

    async def expect_pubkeys(self, keys, timeout=DEFAULT_TIMEOUT):
        """Receive len(keys) pubkey frames in any order; `keys` maps sender -> PEM."""
        got = {}
        for _ in keys:
            frame = await self.expect("pubkey", timeout=timeout)
            if frame.sender in got:
                self._fail(f"second pubkey frame from {frame.sender!r}: {frame!r}")
            got[frame.sender] = frame.content
        if got != keys:
            self._fail(f"pubkeys {short(got)} != {short(keys)}")
        return got

    async def barrier(self, timeout=DEFAULT_TIMEOUT):
        """Send BARRIER and assert that its answers are the very next frames:
        every frame queued for this client before the server handled it, and
        every command this client sent before it, are then behind us."""
        await self.send(BARRIER)
        for answer in BARRIER_ANSWERS:
            frame = await self.recv(timeout)
            if frame != answer:
                self._fail(f"unexpected frame where the barrier's answer belongs (nothing else was pending): {frame!r}")

    async def expect_nothing(self, *, after=(), timeout=DEFAULT_TIMEOUT):
        """Assert that no frame is pending for this client: a barrier on each
        client in `after` (whose earlier commands could send us something;
        nothing may be pending for them either), then one on this client."""
        for other in after:
            await other.barrier(timeout)
        await self.barrier(timeout)

    async def expect_nothing_for(self, seconds):
        """Assert that no frame (and no EOF) arrives within `seconds`. Proves
        nothing on a slow server: only where a barrier cannot be sent."""
        try:
            line = await asyncio.wait_for(self.reader.readline(), seconds)
        except asyncio.TimeoutError:
            return
        except ConnectionError as exc:
            self._fail(f"connection error while expecting silence: {exc!r}")
        if not line:
            self._fail("server closed the connection while expecting silence")
        self._fail(f"unexpected frame while expecting silence: {short(line)}")

    async def frames_before_barrier(self, at_most=50, timeout=DEFAULT_TIMEOUT):
        """The frames pending for this client, up to the barrier's answers,
        EOF, a reset or `timeout` (at most `at_most`; for failure messages)."""
        await self.send(BARRIER)
        answers = [encode(answer)[:-1] for answer in BARRIER_ANSWERS]
        lines = []
        while len(lines) < at_most + len(answers):
            try:
                line = await asyncio.wait_for(self.reader.readline(), timeout)
            except (asyncio.TimeoutError, ConnectionError):
                break
            if not line:
                break
            lines.append(line.rstrip(b"\n"))
            if lines[-len(answers):] == answers:
                return lines[:-len(answers)]
        return lines[:at_most]

    async def drain_until_closed(self, timeout=DEFAULT_TIMEOUT):
        """Read until EOF or reset, then close our side; return the raw lines
        received, each with its newline except a partial last one."""
        lines = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = await asyncio.wait_for(self.reader.readline(), max(remaining, 0))
            except asyncio.TimeoutError:
                self._fail(f"connection still open after {timeout:.1f} s (received {len(lines)} lines)")
            except (ConnectionError, ssl.SSLError):
                break
            except asyncio.LimitOverrunError:
                self._fail("line longer than the read limit")
            if not line:
                break
            lines.append(line)
        self.writer.close()  # like a real client: the server may wait for our FIN
        return lines

    async def expect_closed(self, timeout=DEFAULT_TIMEOUT):
        """Assert the server closes the connection (EOF or reset) with nothing more sent."""
        lines = await self.drain_until_closed(timeout)
        if lines:
            self._fail(f"frames before the close: {short(lines)}")

    def stop_reading(self):
        """Stop reading from the socket so the kernel buffers fill up (slow consumer)."""
        self.writer.transport.pause_reading()

    def resume_reading(self):
        self.writer.transport.resume_reading()

    # -- protocol helpers ------------------------------------------------

    async def register(self, name, pubkey=None):
        """Set the username; expects `Username set to: <trimmed name>`."""
        extra = {} if pubkey is None else {"pubkey": pubkey}
        await self.send(command("username", name, **extra))
        trimmed = name.strip(ASCII_WHITESPACE)
        welcome = await self.expect_welcome(f"Username set to: {trimmed}")
        self.name, self.pubkey = trimmed, pubkey
        self.resume = welcome.resume
        self.label = trimmed

    async def create(self, room):
        """Create a room; expects the welcome and the creator's own system frame."""
        await self.send(command("create", room))
        room = room.strip(ASCII_WHITESPACE)
        await self.expect_welcome(f"Created and joined room: {room}")
        await self.expect_system(f"{self.name} created the room")
        self.room = room

    async def join(self, room):
        """Join a room; expects only the welcome (key frames are the caller's business)."""
        await self.send(command("join", room))
        room = room.strip(ASCII_WHITESPACE)
        await self.expect_welcome(f"Joined room: {room}")
        self.room = room

    async def leave(self):
        await self.send(command("leave"))
        await self.expect_welcome(f"Left room: {self.room}")
        self.room = None

    async def say(self, content, to=None, **extra):
        """Send a message (no reply is expected)."""
        if to is not None:
            extra["to"] = to
        await self.send(command("message", content, **extra))

    # -- closing ---------------------------------------------------------

    async def close(self):
        """Orderly close (FIN)."""
        if not self.writer.is_closing():
            self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), DEFAULT_TIMEOUT)
        except (ConnectionError, asyncio.TimeoutError):
            pass
        except ssl.SSLError:
            # Over TLS: frames still on their way after our close_notify
            # (OpenSSL's APPLICATION_DATA_AFTER_CLOSE_NOTIFY). We left anyway.
            pass

    async def shutdown_write(self):
        """Half-close: the server sees EOF while we can still read."""
        if self.writer.get_extra_info("sslcontext") is None:
            self.writer.write_eof()
            await self.writer.drain()
            return
        # asyncio's TLS cannot half-close: a FIN under the TLS stream, which
        # the server takes as the end of the client's side too.
        await self.writer.drain()
        self.writer.get_extra_info("socket").shutdown(socket.SHUT_WR)

    def abort(self):
        """Abrupt close: SO_LINGER 0 makes the kernel send a reset instead of a FIN."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None and not self.writer.is_closing():
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


async def expect_quiet(*clients, timeout=DEFAULT_TIMEOUT):
    """Assert that no frame is pending for any of `clients`, whatever they
    sent before: every client but the last passes a barrier, so all their
    commands are handled, then each one passes a second barrier (the last
    one's first comes after the others' already)."""
    *others, last = clients
    await last.expect_nothing(after=others, timeout=timeout)
    for client in others:
        await client.barrier(timeout)


async def form_room(room, *members):
    """First member creates `room`, the rest join one by one; consumes every
    frame this produces (joins and key exchange), so the room starts quiet."""
    first, *rest = members
    await first.create(room)
    inside = [first]
    for entrant in rest:
        await entrant.join(room)
        await entrant.expect_pubkeys({m.name: m.pubkey for m in inside if m.pubkey is not None})
        for member in inside:
            await member.expect_system(f"{entrant.name} joined the room")
            if entrant.pubkey is not None:
                await member.expect("pubkey", entrant.pubkey, sender=entrant.name)
        inside.append(entrant)
