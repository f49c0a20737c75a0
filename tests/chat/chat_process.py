"""Runs scripts/chat on a pseudo-terminal, types into it and reads its screen
(and the Node peer, on pipes), for the chat's integration tests."""

import asyncio
import codecs
import fcntl
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import termios
import threading
import time

from cturn_client import TIMEOUT_SCALE, short

REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHAT = os.path.join(REPOSITORY, "scripts", "chat")
NODE_PEER = os.path.join(os.path.dirname(__file__), "node_peer.js")
# Generating a key pair, decrypting hundreds of pieces: slower under load.
TIMEOUT = 15.0 * TIMEOUT_SCALE
CLEAR_LINE = "\r\x1b[K"
COLUMNS, ROWS = 100, 30


def screen_lines(raw):
    """The lines a terminal would show for `raw`, as the chat writes it: a
    line ends with \\n, and CLEAR_LINE starts it over (prompt redraws)."""
    lines = []
    for segment in raw.split("\n"):
        segment = segment.replace("\x1b[K", "").rstrip("\r")
        lines.append(segment.rsplit("\r", 1)[-1])
    return lines[:-1]  # the last one is the input line, still being edited


def node_path():
    return shutil.which("node") or shutil.which("nodejs")


class _Output:
    """Collects what a process writes, for `expect` with a cursor."""

    def __init__(self, label):
        self.label = label
        self.raw = ""
        self.cursor = 0  # lines before it were matched already
        self.closed = False
        # Reads cut characters in two: decode across them.
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._changed = threading.Condition()

    def _append(self, data):
        with self._changed:
            self.raw += self._decoder.decode(data)
            self._changed.notify_all()

    def _close(self):
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def lines(self):
        return screen_lines(self.raw)

    def expect(self, pattern, timeout=TIMEOUT):
        """Wait for a whole line, after the last one matched, equal to
        `pattern` (a str) or matching it (a compiled regex); return it."""
        def matches(line):
            return line == pattern if isinstance(pattern, str) else pattern.fullmatch(line)

        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                lines = self.lines()
                for index in range(self.cursor, len(lines)):
                    if matches(lines[index]):
                        self.cursor = index + 1
                        return lines[index]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    shown = "\n".join(f"    {short(line)}" for line in lines[self.cursor:])
                    why = "it ended" if self.closed else f"{timeout:.0f} s"
                    raise AssertionError(f"[{self.label}] no line {short(pattern)} ({why});"
                                         f" unmatched lines:\n{shown}")
                self._changed.wait(remaining)

    def expect_in_order(self, *patterns):
        return [self.expect(pattern) for pattern in patterns]


class ChatProcess(_Output):
    """scripts/chat with its stdin, stdout and stderr on a pseudo-terminal."""

    def __init__(self, label, args, config_home):
        super().__init__(label)
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        env = dict(os.environ, XDG_CONFIG_HOME=config_home, TERM="xterm")
        self.proc = subprocess.Popen([CHAT, *args], stdin=slave, stdout=slave, stderr=slave,
                                     env=env, start_new_session=True)
        os.close(slave)
        self.master = master
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: every process on the terminal has closed it
                data = b""
            if not data:
                break
            self._append(data)
        self._close()

    def type(self, text, enter=True):
        """Keystrokes, as a terminal sends them (Enter is a carriage return)."""
        data = text.encode("utf-8") + (b"\r" if enter else b"")
        while data:
            data = data[os.write(self.master, data):]

    def wait(self, timeout=TIMEOUT):
        return self.proc.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._reader.join(TIMEOUT)
        os.close(self.master)


class NodePeer(_Output):
    """tests/chat/node_peer.js (client.js's behaviour) on pipes."""

    def __init__(self, label, host, port):
        super().__init__(label)
        self.proc = subprocess.Popen([node_path(), NODE_PEER, host, str(port), label],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            self._append(raw)
        self._close()

    def type(self, text):
        self.proc.stdin.write(text.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(TIMEOUT)
        self.proc.stdin.close()
        self.proc.stdout.close()


def pattern(text):
    """A regex for a line that contains `text` literally."""
    return re.compile(".*" + re.escape(text) + ".*")


class ChatUsers:
    """For a unittest.IsolatedAsyncioTestCase: scripts/chat users, each with
    a configuration directory of its own, killed at cleanup."""

    async def registered_chat(self, name, port):
        """scripts/chat on `port` as `name`, once the server granted the name."""
        if not hasattr(self, "chat_home"):
            self.chat_home = tempfile.TemporaryDirectory()
            self.addCleanup(self.chat_home.cleanup)
        process = ChatProcess(name, ["--port", str(port), "--username", name],
                              os.path.join(self.chat_home.name, name))
        self.addCleanup(process.kill)
        await self.expect(process, f"[Server] Username set to: {name}")
        return process

    async def expect(self, process, *patterns):
        return await asyncio.to_thread(process.expect_in_order, *patterns)

    async def room_of_two(self, alice_port, bob_port):
        """alice creates the room `lobby`, bob joins it; each has the other's key."""
        alice = await self.registered_chat("alice", alice_port)
        alice.type("/create lobby")
        await self.expect(alice, "[System] alice created the room")
        bob = await self.registered_chat("bob", bob_port)
        bob.type("/join lobby")
        await self.expect(bob, "[Key] Received public key from alice")
        await self.expect(alice, "[Key] Received public key from bob")
        return alice, bob
