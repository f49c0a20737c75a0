"""What the chat does, without sockets or a terminal: user lines in, frames
out; server frames in, output lines out. `send(frame)` queues a frame (a
dict), `show(line)` prints one output line; everything from the network
reaches `show` sanitised."""

from dataclasses import dataclass

from . import comeback, crypto, pieces, signing
from .names import display, reveal, skeleton, split_name
from .sanitize import sanitize
from .trust import CHANGED, KNOWN, NEW

# The server's username errors: after one of them the name is asked again.
NAME_ERRORS = ("Username already taken", "Invalid username", "Username cannot be empty",
               "Invalid public key")

# At most this many members are followed per room: a server announcing more
# does not make the client grow without bound.
MAX_MEMBERS = 4096

# Notices (a `notice` field; client.js shows the content as a line of ours).
KEY_REFUSED, KEY_ACCEPTED = "key-refused", "key-accepted"

HELP = """\
/create ROOM     create a room and join it
/join ROOM       join a room
/leave           leave the room
/who             the members of the room this client knows of, and their keys
/keys            your key's fingerprint and each member's
/verify NAME     the safety code of your key and NAME's, to compare with NAME
/msg NAME TEXT   send TEXT to NAME alone (encrypted)
/plain TEXT      send TEXT to everyone in the room UNENCRYPTED (the server can read it)
/trust NAME      accept the new key NAME presented, after checking it (/verify NAME)
/help            this list
/quit            leave (also Ctrl-D on an empty line, or Ctrl-C)
A NAME with spaces may be typed as it is, or between double quotes.
Any other line is sent to the room, encrypted for each member with a key;
start it with // to send a line that begins with /."""


@dataclass
class Member:
    key: object = None          # the public key we encrypt for and verify with, if any
    fingerprint: str = None     # of the key it presented
    signs: bool = False         # its key signs what it sends: unsigned lines are forgeries
    presented: object = None    # a changed key awaiting /trust
    presented_signs: bool = False
    problem: str = None         # why it does not receive lines although it has a key
    refuses_us: bool = False    # its client said it does not accept our key
    pem: str = None             # the key as the server relayed it, to tell an unchanged one


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
        self.signer = signing.Signer(private_key)
        self.replays = signing.ReplayGuard()
        self.quit = False
        self.asked_name = None  # the name of the username frame on its way
        self.announced_key = crypto.announced_pem(private_key)
        self.comeback = comeback.Comeback(self)

    @property
    def needs_name(self):
        return self.name is None and not self.awaiting_name

    @property
    def prompt(self):
        if self.needs_name:
            return "Choose a username: "
        return "> " if self.comeback.online else "(reconnecting) > "

    # -- lines the user typed ---------------------------------------------

    def handle_input(self, line):
        """One line the user entered (without its newline)."""
        if not self.comeback.online:
            self._offline_input(line)
            return
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
        self.awaiting_name, self.asked_name = True, name
        self._send({"type": "username", "body": {"content": name, "pubkey": self.announced_key}})

    # Commands that only read what this client knows work offline too.
    OFFLINE_COMMANDS = ("quit", "help", "who", "keys", "verify")
    # Lines for the room: queued while offline.
    QUEUED_COMMANDS = ("msg", "plain")

    def _offline_input(self, line):
        if not line.strip():
            return
        command = line[1:].partition(" ")[0] if line.startswith("/") and not line.startswith("//") else None
        if command is None or command in self.QUEUED_COMMANDS:
            if self.needs_name:
                self._error("Not connected: type the name again once reconnected")
            else:
                self.comeback.typed(line)
        elif command in self.OFFLINE_COMMANDS or getattr(self, f"_cmd_{command}", None) is None:
            self._command(line)
        else:
            self._error(f"Not connected: /{sanitize(command)} is refused until reconnected"
                        " (lines, /msg and /plain are queued)")

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
                self._show(f"[Key] {display(name)}: no key")
            else:
                note = f" ({member.problem})" if member.problem else ""
                self._show(f"[Key] {display(name)}: {member.fingerprint}{note}")

    def _cmd_who(self, _):
        if self.room is None:
            self._error("You are not in a room")
            return
        names = ", ".join(display(name) + ("" if member.key else " (no key)")
                          for name, member in self.members.items())
        self._show(f"[System] In {display(self.room)}: {self._me()} (you)" + (f", {names}" if names else ""))
        # The server names members only through pubkey frames and joins.
        self._show("[System] (not listed: members without a key who were here before you)")

    def _name_argument(self, argument):
        """The NAME of /trust NAME or /verify NAME: a member as shown or
        typed, a quoted name, or else the whole argument."""
        name, rest = split_name(argument, self.members)
        return argument if rest else name

    def _cmd_msg(self, argument):
        name, text = split_name(argument, self.members)
        if not name or not text.strip():
            self._error("Usage: /msg NAME TEXT (a NAME with spaces between double quotes)")
            return
        if name not in self.members:
            self._error(f"{display(name)} is not in this room, as far as this client knows")
            return
        self.send_line(text, only=name)

    def _cmd_verify(self, argument):
        name = self._name_argument(argument)
        member = self.members.get(name)
        key = member and (member.presented or member.key)
        if key is None:
            self._error(f"No key of {display(name)} to verify" if name else "Usage: /verify NAME")
            return
        code = crypto.safety_code(self.private_key.public_key(), key)
        which = " (the changed key it presents, not accepted yet)" if member.presented else ""
        self._show(f"[Key] Safety code of you and {display(name)}{which}: {code}")
        self._show(f"[Key] Compare it with {display(name)} by voice or in person: the same code on"
                   " both sides means each of you has the other's real key.")

    def _cmd_plain(self, text):
        if not text:
            self._error("Usage: /plain TEXT")
        elif self._can_send(text):
            line_pieces = pieces.split(text, pieces.PLAIN_PIECE_BYTES)
            line_id = pieces.new_line_id()
            for index, piece in enumerate(line_pieces):
                body = {"content": piece.decode("utf-8"),
                        **pieces.piece_fields(line_id, index, len(line_pieces))}
                self._send_message(body)
            self._show(f"{self._me()} [unencrypted]: {sanitize(text)}")

    def _cmd_trust(self, argument):
        name = self._name_argument(argument)
        member = self.members.get(name)
        if member is None or member.presented is None:
            self._error(f"No changed key of {display(name)} waits for /trust")
            return
        self.trust.remember(name, member.fingerprint, member.presented_signs)
        member.key, member.signs = member.presented, member.presented_signs
        member.presented, member.problem = None, None
        self._show(f"[Key] Trusting the new key of {display(name)}: {member.fingerprint}")
        self._notify(name, KEY_ACCEPTED, f"(automatic notice) {self.name}'s client now accepts your key.")

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
        receives = [self.members[name].key is not None and not self.members[name].refuses_us for name in names]
        recipients = [(name, self.members[name].key) for name, ok in zip(names, receives) if ok]
        left_out = [name for name, ok in zip(names, receives) if not ok]
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
                self._send_message(body)
        if only is not None:
            self._show(f"{self._me()} (private to {display(only)}): {sanitize(text)}")
        else:
            self._show(f"{self._me()}: {sanitize(text)}")
        self._report_left_out(left_out)

    def _report_left_out(self, names):
        if names:
            reasons = ", ".join(f"{display(n)} ({self._why_left_out(self.members[n])})" for n in names)
            self._show(f"[Key] Not sent to: {reasons}")

    @staticmethod
    def _why_left_out(member):
        if member.problem:
            return member.problem
        if member.refuses_us:
            return "it does not accept your key: it changed since it was seen; it can /verify, then /trust you"
        return "no key"

    def _send_message(self, body):
        """A message frame, signed (see signing.py)."""
        self._send({"type": "message", "body": self.signer.sign(body, self.name, self.room)})

    def _notify(self, name, notice, text):
        """A signed notice to `name` alone; client.js shows `text` as a line of ours."""
        if self.room is not None and self.name is not None:
            self._send_message({"content": text, "to": name, "notice": notice})

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
            self._welcome(content, body)
        elif kind == "system":
            self._system(content)
        elif kind == "error":
            self._server_error(content)

    def _welcome(self, content, body):
        if content.startswith("Username set to: "):
            self.comeback.keep_token(body)
        if self.comeback.welcome(content):
            return
        self._show(f"[Server] {reveal(content)}")
        for prefix in ("Created and joined room: ", "Joined room: "):
            if content.startswith(prefix):
                self.enter(content[len(prefix):])
        if content.startswith("Username set to: "):
            self.name, self.awaiting_name = content[len("Username set to: "):], False
        elif content.startswith("Left room: "):
            self.enter(None)

    def enter(self, room):
        self._flush(self.reassembler.release_all())
        self.room, self.members = room, {}

    def _system(self, content):
        name, event, suffix = _member_event(content)
        if name is None:
            self._show(f"[System] {reveal(content)}")
            return
        self._show(f"[System] {display(name)}{suffix}")
        if self.room is None:
            return
        if event == "joined":
            self._member(name)
        elif event == "gone" and name in self.members:
            self._flush(self.reassembler.release(name))
            del self.members[name]

    def _member(self, name):
        """The member called `name`, added (with a warning when its name
        looks like one this client knows) if new; None beyond MAX_MEMBERS."""
        member = self.members.get(name)
        if member is not None:
            return member
        if len(self.members) >= MAX_MEMBERS:
            self._warn(f"More than {MAX_MEMBERS} members: {display(name)} is not followed")
            return None
        shape = skeleton(name)
        for other in [*self.trust.names(), *self.members]:
            if other != name and skeleton(other) == shape:
                self._warn(f"{display(name)} looks like {display(other)}, a name you know:"
                           " it is someone else, with a key of its own")
                break
        member = self.members[name] = Member()
        return member

    def _server_error(self, content):
        if self.comeback.error(reveal(content)):
            return
        self._show(f"[Error] {reveal(content)}")
        if self.awaiting_name and content in NAME_ERRORS:
            self.awaiting_name = False

    def _pubkey(self, sender, pem):
        if not self.comeback.quiet_key(sender, pem):
            self._show(f"[Key] Received public key from {display(sender)}")
        if sender == self.name:
            return
        member = self._member(sender)
        if member is None:
            return
        self._take_key(sender, member, pem)
        if member.key is not None:
            self.comeback.send_queued()

    def _take_key(self, sender, member, pem):
        member.key = member.presented = member.problem = None
        member.pem = pem
        member.signs = False
        try:
            key = crypto.load_public_key(pem)
        except crypto.BadKey as exc:
            member.fingerprint, member.problem = None, f"unusable key: {exc}"
            self._warn(f"The key of {display(sender)} is not usable ({exc}): lines are not sent to it")
            return
        member.fingerprint = crypto.fingerprint(key)
        announced = crypto.announces_signing(pem)
        verdict = self.trust.check(sender, member.fingerprint, announced)
        if verdict in (NEW, KNOWN):
            member.key, member.signs = key, announced or self.trust.signs(sender)
            return
        assert verdict == CHANGED
        member.presented, member.presented_signs = key, announced
        member.problem = f"key changed: check it, then /trust {display(sender)}"
        name = display(sender)
        for line in (
                f"!!! THE KEY OF {name} HAS CHANGED !!!",
                f"known key: {self.trust.known(sender)}",
                f"new key:   {member.fingerprint}",
                f"Someone may be posing as {name} (the server can), or {name} has a new key.",
                f"Nothing is sent to or shown from {name} until you compare /verify {name} with"
                f" {name} by another way and run /trust {name}; {name} is told."):
            self._warn(line)
        self._notify(sender, KEY_REFUSED,
                     f"(automatic notice) {self.name}'s client does not accept your new key: {self.name}"
                     " neither reads your lines nor sends you any until the key is checked and accepted.")

    def _message(self, sender, body):
        who = display(sender)
        member = self.members.get(sender) if sender != self.name else None
        if member is None:
            self._warn(f"Not shown: a message said to come from {who}, who is not in this room"
                       " as far as this client knows")
            return
        recipient = body.get("to")
        if recipient is not None and recipient != self.name:
            self._warn(f"Not shown: a message from {who} addressed to someone else")
            return
        if member.presented is not None:
            self._warn(f"Not shown: a message from {who}, whose changed key you have not accepted"
                       f" (/verify {who}, then /trust {who})")
            return
        verified = self._verified(sender, member, recipient, body)
        if verified is None:
            return
        notice = body.get("notice")
        if notice is not None:
            self._notice(sender, member, notice, verified)
            return
        content = body.get("content")
        if not isinstance(content, str):
            self._error(f"A message from {who} has no text")
            return
        encrypted = body.get("encrypted") is True
        if encrypted:
            try:
                data = crypto.decrypt(self.private_key, content)
            except crypto.BadCiphertext:
                self._error(f"A message from {who} could not be decrypted")
                return
        else:
            data = content.encode("utf-8", "replace")
        # Only a signed line can say it was meant for us alone; pieces of
        # verified and unverified lines never join.
        kind = (encrypted, verified and body.get("private") is True, verified)
        self._flush(self.reassembler.add(sender, data, kind, pieces.fields_of(body)))

    def _verified(self, sender, member, recipient, body):
        """True for a line signed by the member's key and newer than the last
        one; False for a line that cannot be checked (no signature from a key
        that does not sign, or no key); None (with a warning) for a forgery
        or a replay, which is not shown."""
        who = display(sender)
        if member.key is None or not (member.signs or "sig" in body):
            return False
        if not signing.verify(member.key, sender, recipient, self.room, body):
            self._warn(f"Not shown: a message said to come from {who} that {who} did not sign")
            return None
        if not self.replays.accept(sender, body["seq"]):
            self._warn(f"Not shown: a message from {who} that was already received (a replay)")
            return None
        if not member.signs:
            member.signs = True
            self.trust.check(sender, member.fingerprint, True)
        return True

    def _notice(self, sender, member, notice, verified):
        who = display(sender)
        if not verified:
            self._warn(f"Not shown: an unsigned notice said to come from {who}")
        elif notice == KEY_REFUSED:
            member.refuses_us = True
            self._show(f"[Key] {who} does not accept your key (it changed since {who} last saw it):"
                       f" {who} neither reads your lines nor sends you any until {who} checks"
                       f" and accepts it. /verify {who} gives the code to compare.")
        elif notice == KEY_ACCEPTED:
            member.refuses_us = False
            self._show(f"[Key] {who} now accepts your key.")

    def _flush(self, lines):
        for line in lines:
            encrypted, private, verified = line.kind
            label = display(line.sender)
            if private:
                label += " (private)"
            if not verified:
                label += " [unverified]"
            if not encrypted:
                label += " [unencrypted]"
            missing = "" if line.complete else " [incomplete: pieces missing]"
            self._show(f"{label}: {sanitize(line.text)}{missing}")

    # -- helpers ----------------------------------------------------------------

    def _me(self):
        return display(self.name or "you")

    def _error(self, text):
        self._show(f"[Error] {text}")

    def _warn(self, text):
        self._show(f"[Warning] {text}")

    # -- the connection (see comeback.py) -------------------------------------------

    def send(self, frame):
        self._send(frame)

    def show(self, line):
        self._show(line)

    def error(self, text):
        self._error(text)

    def flush_pending(self):
        """Show what was still being put together."""
        self._flush(self.reassembler.release_all())

    def disconnected(self):
        """The connection is gone for good."""
        self.flush_pending()

    def connection_lost(self):
        """The connection is gone; another one may follow (`attach`)."""
        self.comeback.lost()

    def attach(self, send):
        """A new connection, whose frames go to `send`: get the name and room back."""
        self._send = send
        self.comeback.attached()


def _member_event(content):
    """(name, "joined" | "gone" | None, the rest of the text) from a system
    frame's text, or (None, None, None) for other texts."""
    for suffix, event in ((" joined the room", "joined"), (" left the room", "gone"),
                          (" disconnected", "gone"), (" created the room", None)):
        if content.endswith(suffix) and len(content) > len(suffix):
            return content[:-len(suffix)], event, suffix
    return None, None, None
