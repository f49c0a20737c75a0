"""A scripted CTurn server for the chat's tests: it accepts clients and sends
the latest one whatever frames a test writes, forged ones included, so that
the real scripts/chat is tried against a server that lies. It can drop the
connection, stop listening and listen again on the same port, and speak the
resume of docs/protocol.md (a welcome with a token, the room given back):
the reconnecting client is tried against a server whose every answer the
test chooses."""

import json
import queue
import secrets
import socket
import threading
import time

from chat_process import TIMEOUT


class _Connection:
    def __init__(self, sock):
        self.sock = sock
        self.accepted_at = time.monotonic()
        self.frames = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        pending = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.frames.put(None)
                return
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                self.frames.put(json.loads(line))

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class FakeServer:
    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.connections = []
        # Closes each new connection at once (a server that accepts, then fails).
        self.drop_on_accept = False
        self._changed = threading.Condition()
        self._start_accepting()

    def _start_accepting(self):
        self._thread = threading.Thread(target=self._accept, args=(self._listener,), daemon=True)
        self._thread.start()

    def _accept(self, listener):
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            conn = _Connection(sock)
            if self.drop_on_accept:
                conn.close()
            with self._changed:
                self.connections.append(conn)
                self._changed.notify_all()

    def wait_connection(self, count, timeout=TIMEOUT):
        """Wait until `count` connections have been accepted in all."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.connections) >= count, timeout):
                raise AssertionError(f"{len(self.connections)} connection(s), not {count}")

    @property
    def current(self):
        self.wait_connection(1)
        with self._changed:
            return self.connections[-1]

    def receive(self, type_=None, timeout=TIMEOUT):
        """The next frame the latest client sent (of `type_`, skipping others)."""
        conn = self.current
        while True:
            frame = conn.frames.get(timeout=timeout)
            if frame is None:
                conn.frames.put(None)  # stays closed for the next call
                raise AssertionError("the client closed the connection")
            if type_ is None or frame.get("type") == type_:
                return frame

    def nothing_received(self, within):
        """Whether the latest client sends nothing for `within` seconds."""
        try:
            frame = self.current.frames.get(timeout=within)
        except queue.Empty:
            return True
        self.current.frames.put(frame)
        return False

    def send_raw(self, data):
        self.current.sock.sendall(data)

    def send(self, type_, content=None, sender=None, **body):
        frame = {"type": type_, "body": ({} if content is None else {"content": content}) | body}
        if sender is not None:
            frame["sender"] = sender
        self.send_raw(json.dumps(frame).encode() + b"\n")

    # -- the resume (docs/protocol.md) ---------------------------------------

    def welcome_name(self, name):
        """Accept the username frame just received: a welcome with a new
        token, returned."""
        token = secrets.token_hex(16)
        self.send("welcome", f"Username set to: {name}", resume=token)
        return token

    def resume(self, name, room, members):
        """A successful resume of `name` in `room`: the welcome (new token),
        `Joined room`, one pubkey frame per other member ({name: pem});
        the new token."""
        token = self.welcome_name(name)
        self.send("welcome", f"Joined room: {room}")
        for member, pem in members.items():
            self.send("pubkey", pem, sender=member)
        return token

    # -- failures -------------------------------------------------------------

    def drop(self):
        """Close the latest connection (the server went away for this client)."""
        self.current.close()

    def stop_listening(self):
        """Refuse connections: nothing listens on the port any more."""
        self._close_listener()

    def _close_listener(self):
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        self._listener.close()
        self._thread.join(TIMEOUT)

    def listen_again(self):
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._start_accepting()

    def close(self):
        with self._changed:
            connections = list(self.connections)
        for conn in connections:
            conn.close()
        self._close_listener()
