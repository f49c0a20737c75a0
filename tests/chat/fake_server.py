"""A scripted CTurn server for the chat's tests: it accepts one client and
sends it whatever frames a test writes, forged ones included, so that the
real scripts/chat is tried against a server that lies."""

import json
import queue
import socket
import threading

from chat_process import TIMEOUT


class FakeServer:
    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._frames = queue.Queue()
        self._conn = None
        self._accepted = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        try:
            self._conn, _ = self._listener.accept()
        except OSError:
            return
        self._accepted.set()
        pending = b""
        while True:
            try:
                data = self._conn.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._frames.put(None)
                return
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                self._frames.put(json.loads(line))

    def receive(self, type_=None):
        """The next frame the client sent (of `type_`, skipping others)."""
        while True:
            frame = self._frames.get(timeout=TIMEOUT)
            if frame is None:
                raise AssertionError("the client closed the connection")
            if type_ is None or frame.get("type") == type_:
                return frame

    def send_raw(self, data):
        if not self._accepted.wait(TIMEOUT):
            raise AssertionError("the client never connected")
        self._conn.sendall(data)

    def send(self, type_, content=None, sender=None, **body):
        frame = {"type": type_, "body": ({} if content is None else {"content": content}) | body}
        if sender is not None:
            frame["sender"] = sender
        self.send_raw(json.dumps(frame).encode() + b"\n")

    def close(self):
        for sock in (self._conn, self._listener):
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        self._thread.join(TIMEOUT)
