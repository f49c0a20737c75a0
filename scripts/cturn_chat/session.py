"""What the chat does, without sockets or a terminal: user lines in, frames
out; server frames in, output lines out. `send(frame)` queues a frame (a
dict), `show(line)` prints one output line; everything from the network
reaches `show` sanitised."""

from dataclasses import dataclass

from . import crypto, pieces
from .sanitize import sanitize
from .trust import CHANGED, KNOWN, NEW

# The server's username errors: after one of them the name is asked again.
NAME_ERRORS = ("Username already taken", "Invalid username", "Username cannot be empty",
               "Invalid public key")

HELP = """\
/create ROOM     create a room and join it
/join ROOM       join a room
/leave           leave the room
/who             the members of the room this client knows of, and their keys
/keys            your key's fingerprint and each member's
/msg NAME TEXT   send TEXT to NAME alone (encrypted)
/plain TEXT      send TEXT to everyone in the room UNENCRYPTED (the server can read it)
/trust NAME      accept the new key NAME presented, after checking its fingerprint
/help            this list
/quit            leave (also Ctrl-D on an empty line, or Ctrl-C)
Any other line is sent to the room, encrypted for each member with a key;
start it with // to send a line that begins with /."""


@dataclass
class Member:
    key: object = None          # the public key we encrypt for, if any
    fingerprint: str = None     # of the key it presented
    presented: object = None    # a changed key awaiting /trust
    problem: str = None         # why it does not receive lines although it has a key


class Session:
    def __init__(self, private_key, trust, send, show):
        self.private_key = private_key
        self.fingerprint = crypto.fingerprint(private_key.public_key())
        self.trust = trust
        self._send = send
        self._show = show
        self.name = None
        self.awaiting_name = False  # a username frame is on its way
        self.room = None
        self.members = {}  # name -> Member, in the order they became known
        self.reassembler = pieces.Reassembler()
        self.quit = False

    @property
    def needs_name(self):
        return self.name is None and not self.awaiting_name

    @property
    def prompt(self):
        return "Choose a username: " if self.needs_name else "> "

    # -- lines the user typed ---------------------------------------------

    def handle_input(self, line):
        """One line the user entered (without its newline)."""
        if self.needs_name:
            self.register(line)
            return
        if not line.strip():
            return
        if line.startswith("//"):
            self.send_line(line[1:])
        elif line.startswith("/"):
            self._command(line)
        else:
            self.send_line(line)

    def register(self, name):
        if not name.strip():
            # The server would answer "Invalid message content", which says less.
            self._error("Username cannot be empty")
            return
        self.awaiting_name = True
        self._send({"type": "username",
                    "body": {"content": name, "pubkey": crypto.public_pem(self.private_key)}})

    def _command(self, line):
        command, _, argument = line[1:].partition(" ")
        argument = argument.strip()
        handler = getattr(self, f"_cmd_{command}", None)
        if handler is None:
            self._error(f"Unknown command /{sanitize(command)} (/help lists them)")
        else:
            handler(argument)

    def _cmd_create(self, room):
        self._room_command("create", room)

    def _cmd_join(self, room):
        self._room_command("join", room)

    def _room_command(self, command, room):
        if not room:
            self._error(f"Usage: /{command} ROOM")
            return
        self._send({"type": command, "body": {"content": room}})

    def _cmd_leave(self, _):
        self._send({"type": "leave", "body": {}})

    def _cmd_quit(self, _):
        self.quit = True

    def _cmd_help(self, _):
        for line in HELP.splitlines():
            self._show(line)

    def _cmd_keys(self, _):
        self._show(f"[Key] {self._me()} (you): {self.fingerprint}")
        for name, member in self.members.items():
            if member.fingerprint is None:
                self._show(f"[Key] {sanitize(name)}: no key")
            else:
                note = f" ({member.problem})" if member.problem else ""
                self._show(f"[Key] {sanitize(name)}: {member.fingerprint}{note}")

    def _cmd_who(self, _):
        if self.room is None:
            self._error("You are not in a room")
            return
        names = ", ".join(sanitize(name) + ("" if member.key else " (no key)")
                          for name, member in self.members.items())
        self._show(f"[System] In {sanitize(self.room)}: {self._me()} (you)" + (f", {names}" if names else ""))
        # The server names members only through pubkey frames and joins.
        self._show("[System] (not listed: members without a key who were here before you)")

    def _cmd_msg(self, argument):
        name, _, text = argument.partition(" ")
        if not name or not text.strip():
            self._error("Usage: /msg NAME TEXT")
            return
        if name not in self.members:
            self._error(f"{sanitize(name)} is not in this room, as far as this client knows")
            return
        self.send_line(text, only=name)

    def _cmd_plain(self, text):
        if not text:
            self._error("Usage: /plain TEXT")
        elif self._can_send(text):
            line_pieces = pieces.split(text, pieces.PLAIN_PIECE_BYTES)
            line_id = pieces.new_line_id()
            for index, piece in enumerate(line_pieces):
                body = {"content": piece.decode("utf-8"),
                        **pieces.piece_fields(line_id, index, len(line_pieces))}
                self._send({"type": "message", "body": body})
            self._show(f"{self._me()} [unencrypted]: {sanitize(text)}")

    def _cmd_trust(self, name):
        member = self.members.get(name)
        if member is None or member.presented is None:
            self._error(f"No changed key of {sanitize(name)} waits for /trust")
            return
        self.trust.remember(name, member.fingerprint)
        member.key, member.presented, member.problem = member.presented, None, None
        self._show(f"[Key] Trusting the new key of {sanitize(name)}: {member.fingerprint}")

    # -- sending ------------------------------------------------------------

    def _can_send(self, text):
        if self.room is None:
            self._error("You are not in a room: /create ROOM or /join ROOM first")
            return False
        size = len(text.encode("utf-8"))
        if size > pieces.MAX_LINE_BYTES:
            self._error(f"Line too long ({size} bytes, at most {pieces.MAX_LINE_BYTES}): not sent")
            return False
        return True

    def send_line(self, text, only=None):
        """Encrypt `text` once for each member with a usable key (or for
        `only`) and send it as directed messages. Never sends plain text."""
        if not self._can_send(text):
            return
        names = [only] if only is not None else list(self.members)
        recipients = [(name, self.members[name].key) for name in names if self.members[name].key]
        left_out = [name for name in names if not self.members[name].key]
        if not recipients:
            who = "Nobody else in the room" if not names else "No member"
            self._error(f"{who} has a key you can encrypt for: the line was NOT sent."
                        " /plain TEXT sends it unencrypted.")
            self._report_left_out(left_out)
            return
        line_pieces = pieces.split(text, crypto.PIECE_BYTES)
        line_id = pieces.new_line_id()
        for name, key in recipients:
            for index, piece in enumerate(line_pieces):
                body = {"content": crypto.encrypt(key, piece), "encrypted": True, "to": name,
                        **pieces.piece_fields(line_id, index, len(line_pieces))}
                if only is not None:
                    body["private"] = True
                self._send({"type": "message", "body": body})
        if only is not None:
            self._show(f"{self._me()} (private to {sanitize(only)}): {sanitize(text)}")
        else:
            self._show(f"{self._me()}: {sanitize(text)}")
        self._report_left_out(left_out)

    def _report_left_out(self, names):
        if names:
            reasons = ", ".join(f"{sanitize(n)} ({self.members[n].problem or 'no key'})" for n in names)
            self._show(f"[Key] Not sent to: {reasons}")

    # -- frames from the server -----------------------------------------------

    def handle_frame(self, frame):
        if not isinstance(frame, dict) or not isinstance(frame.get("body"), dict):
            self._error("The server sent a frame this client does not understand")
            return
        body, sender = frame["body"], frame.get("sender")
        content = body.get("content")
        kind = frame.get("type")
        if kind == "message" and isinstance(sender, str):
            self._message(sender, body)
        elif not isinstance(content, str):
            self._error("The server sent a frame this client does not understand")
        elif kind == "pubkey" and isinstance(sender, str):
            self._pubkey(sender, content)
        elif kind == "welcome":
            self._welcome(content)
        elif kind == "system":
            self._system(content)
        elif kind == "error":
            self._server_error(content)

    def _welcome(self, content):
        self._show(f"[Server] {sanitize(content)}")
        for prefix in ("Created and joined room: ", "Joined room: "):
            if content.startswith(prefix):
                self._enter(content[len(prefix):])
        if content.startswith("Username set to: "):
            self.name, self.awaiting_name = content[len("Username set to: "):], False
        elif content.startswith("Left room: "):
            self._enter(None)

    def _enter(self, room):
        self._flush(self.reassembler.release_all())
        self.room, self.members = room, {}

    def _system(self, content):
        self._show(f"[System] {sanitize(content)}")
        if self.room is None:
            return
        name, event = _member_event(content)
        if event == "joined":
            self.members.setdefault(name, Member())
        elif event == "gone" and name in self.members:
            self._flush(self.reassembler.release(name))
            del self.members[name]

    def _server_error(self, content):
        self._show(f"[Error] {sanitize(content)}")
        if self.awaiting_name and content in NAME_ERRORS:
            self.awaiting_name = False

    def _pubkey(self, sender, pem):
        self._show(f"[Key] Received public key from {sanitize(sender)}")
        if sender == self.name:
            return
        member = self.members.setdefault(sender, Member())
        member.key = member.presented = member.problem = None
        try:
            key = crypto.load_public_key(pem)
        except crypto.BadKey as exc:
            member.fingerprint, member.problem = None, f"unusable key: {exc}"
            self._show(f"[Warning] The key of {sanitize(sender)} is not usable ({exc}): lines are not sent to it")
            return
        member.fingerprint = crypto.fingerprint(key)
        verdict = self.trust.check(sender, member.fingerprint)
        if verdict in (NEW, KNOWN):
            member.key = key
            return
        assert verdict == CHANGED
        member.presented, member.problem = key, f"key changed: check it, then /trust {sanitize(sender)}"
        name = sanitize(sender)
        for line in (
                f"!!! THE KEY OF {name} HAS CHANGED !!!",
                f"known key: {self.trust.known(sender)}",
                f"new key:   {member.fingerprint}",
                f"Someone may be posing as {name} (the server can), or {name} has a new key"
                " (client.js makes one each run).",
                f"Lines are NOT sent to {name} until you compare the new fingerprint with"
                f" {name} by another way and run /trust {name}."):
            self._show(f"[Warning] {line}")

    def _message(self, sender, body):
        content = body.get("content")
        if not isinstance(content, str):
            self._error(f"A message from {sanitize(sender)} has no text")
            return
        encrypted = body.get("encrypted") is True
        if encrypted:
            try:
                data = crypto.decrypt(self.private_key, content)
            except crypto.BadCiphertext:
                self._error(f"A message from {sanitize(sender)} could not be decrypted")
                return
        else:
            data = content.encode("utf-8", "replace")
        kind = (encrypted, body.get("private") is True)
        self._flush(self.reassembler.add(sender, data, kind, pieces.fields_of(body)))

    def _flush(self, lines):
        for line in lines:
            encrypted, private = line.kind
            label = sanitize(line.sender)
            if private:
                label += " (private)"
            if not encrypted:
                label += " [unencrypted]"
            missing = "" if line.complete else " [incomplete: pieces missing]"
            self._show(f"{label}: {sanitize(line.text)}{missing}")

    # -- helpers ----------------------------------------------------------------

    def _me(self):
        return sanitize(self.name or "you")

    def _error(self, text):
        self._show(f"[Error] {text}")

    def disconnected(self):
        """The connection is gone: show what was still being put together."""
        self._flush(self.reassembler.release_all())


def _member_event(content):
    """(name, "joined" | "gone" | None) from a system frame's text."""
    for suffix, event in ((" joined the room", "joined"), (" left the room", "gone"),
                          (" disconnected", "gone")):
        if content.endswith(suffix):
            return content[:-len(suffix)], event
    return None, None
