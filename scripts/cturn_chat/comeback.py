"""Coming back after a lost connection: the name, the room, the queued lines.

On a new connection the client sends `username` with the name it had, its
key and the resume token of the last welcome (kept in memory only, never
shown or written). Then, if it was in a room, it sends `create ROOM` as a
probe, whose answers tell the two outcomes apart (the server answers a
connection's commands in order, so whatever the resume itself sends comes
before the probe's answer):

- resumed: `Joined room: ROOM` and the members' keys (from the resume), then
  `Leave current room first` (the probe's answer, which also says that every
  key of the resume has arrived);
- a fresh name, the room still there: `Room already exists`; then `join
  ROOM`, and `join ROOM` once more when it is joined, whose `Leave current
  room first` again marks the end of the keys;
- a fresh name, the room gone (a restarted server forgets its rooms):
  `Created and joined room: ROOM`.

The lines typed meanwhile are sent once the room's keys are known."""

from . import pieces
from .names import display
from .offline_queue import OfflineQueue
from .sanitize import sanitize

OFFLINE, NAMING, PROBING, JOINING, SETTLING, ONLINE = (
    "offline", "naming", "probing", "joining", "settling", "online")
IN_ROOM = "Leave current room first"
# A room that vanishes between `create` and `join` (its last member left) is
# tried again, but not for ever.
MAX_ROOM_TRIES = 3


class Comeback:
    def __init__(self, session):
        self._s = session
        self.phase = ONLINE
        self.token = None
        self.room = None          # the room to get back to
        self.keys_before = {}     # name -> the pem it had before the loss
        self.queue = OfflineQueue()
        self.gave_up = None       # why reconnecting stops, once it must
        self._tries = 0
        self._waiting_told = False

    @property
    def online(self):
        return self.phase == ONLINE

    @property
    def coming_back(self):
        return self.phase in (NAMING, PROBING, JOINING, SETTLING)

    def keep_token(self, body):
        token = body.get("resume")
        # Anything else is not a token this client can send back.
        self.token = token if isinstance(token, str) and 0 < len(token) <= 256 else None

    # -- the connection ------------------------------------------------------

    def lost(self):
        s = self._s
        if self.phase == ONLINE:
            self.room = s.room
            self.keys_before = {name: m.pem for name, m in s.members.items() if m.pem}
        elif self.phase != OFFLINE and s.room is not None:
            self.room = s.room
        self.phase = OFFLINE
        s.flush_pending()

    def attached(self):
        """A new connection is up: ask for the name back."""
        s = self._s
        name = s.name or (s.asked_name if s.awaiting_name else None)
        if name is None:
            self._back(None)
            return
        body = {"content": name, "pubkey": s.announced_key}
        if s.name is not None and self.token is not None:
            body["resume"] = self.token
        self.phase = NAMING
        s.awaiting_name = True
        s.send({"type": "username", "body": body})

    # -- frames while coming back: True when handled (and not to be shown) ----

    def welcome(self, content):
        s = self._s
        if self.phase == NAMING and content.startswith("Username set to: "):
            s.name, s.awaiting_name = content[len("Username set to: "):], False
            if self.room is None:
                self._back(None)
            else:
                self._probe()
            return True
        joined = content == f"Joined room: {self.room}"
        if self.phase == PROBING and joined:
            s.enter(self.room)
            s.show("[Reconnected]")
            self.phase = SETTLING
            return True
        if self.phase == JOINING and joined:
            s.enter(self.room)
            s.show(f"[Reconnected: rejoined {display(self.room)}]")
            self._send_room("join")  # only its answer marks the end of the keys
            self.phase = SETTLING
            return True
        if self.phase == PROBING and content == f"Created and joined room: {self.room}":
            s.enter(self.room)
            s.show(f"[Reconnected: rejoined {display(self.room)}, created again: it was gone]")
            self._back(self.room, told=True)
            return True
        return False

    def error(self, content):
        s = self._s
        if self.phase == NAMING:
            if s.name is None:  # a name never accepted: asked again as usual
                self._back(None)
                return False
            s.show(f"[Error] {content}")
            self.gave_up = (f"Not reconnecting: the server refused the name {display(s.name)}"
                            f" ({content}). Another connection holds it, maybe your own newer"
                            " session of this chat.")
            return True
        if self.phase == PROBING and content == "Room already exists":
            self._send_room("join")
            self.phase = JOINING
            return True
        if self.phase == JOINING and content == "Room does not exist" and self._tries < MAX_ROOM_TRIES:
            self._probe()
            return True
        if self.phase == SETTLING and content == IN_ROOM:
            self._back(self.room, told=True)
            return True
        if self.phase in (PROBING, JOINING):
            if content == IN_ROOM:  # resumed, yet no `Joined room`: take the server's word
                self._back(self.room)
                return True
            s.show(f"[Reconnected] Could not get back into {display(self.room)}: {sanitize(content)}")
            s.enter(None)
            self._back(None, told=True)
            return True
        return False

    def quiet_key(self, sender, pem):
        """Whether a member's key need not be announced: the one it had."""
        return self.coming_back and self.keys_before.get(sender) == pem

    # -- lines typed meanwhile -------------------------------------------------

    def typed(self, line):
        """A line (or /msg, /plain) typed while not online: kept or refused."""
        s = self._s
        size = len(line.encode("utf-8"))
        if self.room is None and s.room is None:
            s.error("You are not in a room: /create ROOM or /join ROOM first")
        elif size > pieces.MAX_LINE_BYTES:
            s.error(f"Line too long ({size} bytes, at most {pieces.MAX_LINE_BYTES}): not queued")
        elif not self.queue.add(line):
            s.show(f"[Offline] Not queued, so NOT sent: {self.queue.max_lines} lines or"
                   f" {self.queue.max_bytes // 1024} KiB wait already")
        else:
            s.show(f"[Offline] Queued, sent once reconnected: {sanitize(line)}")

    def send_queued(self):
        """Send the queued lines, once someone in the room can read them."""
        s = self._s
        if not self.online or not self.queue:
            return
        if s.room is None:
            s.show(f"[Offline] {len(self.queue)} queued line(s) NOT sent: not in a room")
            self.queue.take_all()
            return
        if not any(m.key is not None and not m.refuses_us for m in s.members.values()):
            if not self._waiting_told:
                s.show(f"[Offline] {len(self.queue)} queued line(s) wait for a member with a key")
                self._waiting_told = True
            return
        lines = self.queue.take_all()
        s.show(f"[Reconnected] Sending {len(lines)} line(s) typed while offline")
        for line in lines:
            s.handle_input(line)

    # -- helpers -----------------------------------------------------------------

    def _probe(self):
        self._tries += 1
        self._send_room("create")
        self.phase = PROBING

    def _send_room(self, command):
        self._s.send({"type": command, "body": {"content": self.room}})

    def _back(self, room, told=False):
        if not told:
            self._s.show("[Reconnected]")
        self.phase, self.room, self._tries, self._waiting_told = ONLINE, room, 0, False
        self.keys_before = {}
        self.send_queued()
