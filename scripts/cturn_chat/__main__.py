"""scripts/chat: connect, ask for a username, chat. See docs/chat.md."""

import argparse
import errno
import json
import locale
import os
import selectors
import socket
import ssl
import sys

from . import crypto, tls, trust
from .paths import config_path
from .session import Session
from .terminal import Terminal

# A server frame is at most a client's line (64 KiB by default) plus the
# envelope and sender; far more without a newline is not a CTurn server.
MAX_FRAME_BYTES = 4 * 1024 * 1024
CONNECT_TIMEOUT = 10.0
FLUSH_TIMEOUT = 5.0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="scripts/chat", description="End-to-end encrypted CTurn chat; /help once connected.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1337)
    parser.add_argument("--username", help="asked for when absent")
    parser.add_argument("--identity", metavar="FILE",
                        help="your key pair (created, mode 0600, on first use);"
                             " default $XDG_CONFIG_HOME/cturn/identity.pem")
    parser.add_argument("--tls", action="store_true",
                        help="connect over TLS, checking the server's certificate against the"
                             " system's CAs and its name against --host")
    parser.add_argument("--tls-ca", metavar="FILE",
                        help="with --tls: trust the CA certificate(s) in FILE instead")
    parser.add_argument("--tls-pin", action="store_true",
                        help="with --tls, for a self-signed server: trust its public key on first"
                             " use and refuse a different one later")
    parser.add_argument("--tls-repin", action="store_true",
                        help="with --tls-pin: accept the server's new key (after a warning)")
    args = parser.parse_args(argv)
    if (args.tls_ca or args.tls_pin or args.tls_repin) and not args.tls:
        parser.error("--tls-ca, --tls-pin and --tls-repin go with --tls")
    if args.tls_ca and args.tls_pin:
        parser.error("--tls-ca and --tls-pin: choose one way to trust the server")
    if args.tls_repin:
        args.tls_pin = True
    return args


class Connection:
    """A non-blocking socket with an output queue: a long line makes hundreds
    of frames, which the server reads at its rate limit, and the client must
    keep reading (and the user keep typing) meanwhile."""

    def __init__(self, sock):
        self.sock = sock
        self.outgoing = bytearray()
        self._incoming = b""

    def send(self, frame):
        self.outgoing += json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"

    def write_some(self):
        try:
            sent = self.sock.send(self.outgoing)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except (ConnectionError, ssl.SSLError) as exc:
            raise EOFError(str(exc)) from None
        del self.outgoing[:sent]

    def read_frames(self):
        """Frames received (as parsed JSON, or None for a line that is not
        JSON); raises EOFError once the server has closed."""
        try:
            data = self.sock.recv(256 * 1024)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return []
        except (ConnectionError, ssl.SSLError) as exc:
            raise EOFError(str(exc)) from None
        if not data:
            raise EOFError("")
        *lines, self._incoming = (self._incoming + data).split(b"\n")
        if len(self._incoming) > MAX_FRAME_BYTES:
            raise EOFError("the server sent an endless line")
        frames = []
        for line in lines:
            if not line.strip():
                continue
            try:
                frames.append(json.loads(line.decode("utf-8")))
            except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
                frames.append(None)
        return frames

    def flush(self, timeout):
        """Send what is queued, waiting at most `timeout` seconds (on quit)."""
        self.sock.setblocking(True)
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(self.outgoing)
            self.outgoing.clear()
        except OSError:
            pass


def connect(host, port, tls_options=None):
    """A non-blocking socket to the server; over TLS (handshake done) when
    `tls_options` is a dict of tls.wrap's options."""
    sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_options is not None:
            sock = tls.wrap(sock, host, port, **tls_options)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def tls_options(args, show):
    if not args.tls:
        return None
    pins = tls.PinStore(tls.default_pin_path()) if args.tls_pin else None
    return {"cafile": args.tls_ca, "pin_store": pins, "repin": args.tls_repin, "show": show}


def run(args, term):
    """The chat; returns the exit status."""
    identity = args.identity or config_path("identity.pem")
    try:
        private_key, notice = crypto.load_or_create_identity(identity)
    except (OSError, ValueError) as exc:
        term.show(f"[Error] Cannot use identity {identity}: {exc}")
        return 2
    if notice:
        term.show(f"[Key] {notice}")
    try:
        store = trust.TrustStore(trust.default_path(), f"{args.host}:{args.port}")
    except trust.TrustStoreError as exc:
        term.show(f"[Error] {exc}")
        return 2
    try:
        conn = Connection(connect(args.host, args.port, tls_options(args, term.show)))
    except tls.TlsRefused as exc:
        for line in str(exc).splitlines():
            term.show(line if line.startswith("[") else f"[TLS] {line}")
        return 1
    except ssl.SSLError as exc:
        why = getattr(exc, "verify_message", None) or exc.reason or exc
        term.show(f"[Error] No TLS with {args.host}:{args.port}: {why}")
        return 1
    except OSError as exc:
        term.show(f"[Error] Cannot connect to {args.host}:{args.port}: {exc.strerror or exc}")
        return 1
    secure = " over TLS" if args.tls else ""
    term.show(f"Connected to {args.host}:{args.port}{secure}")
    session = Session(private_key, store, conn.send, term.show)
    if args.username is not None:
        session.handle_input(args.username)

    selector = selectors.DefaultSelector()
    selector.register(term.in_fd, selectors.EVENT_READ, "input")
    selector.register(conn.sock, selectors.EVENT_READ, "server")
    input_open = True
    try:
        while not session.quit:
            term.set_prompt(session.prompt, question=session.needs_name)
            selector.modify(conn.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.outgoing else 0),
                            "server")
            for key, events in selector.select():
                if key.data == "input" and input_open:
                    for event in term.read(_read_input(term.in_fd)):
                        if event[0] == "eof":
                            session.quit = True
                            input_open = False
                            selector.unregister(term.in_fd)
                            break
                        session.handle_input(event[1])
                        if session.quit:
                            break
                        term.set_prompt(session.prompt, question=session.needs_name)
                elif key.data == "server":
                    if events & selectors.EVENT_WRITE:
                        conn.write_some()
                    if events & selectors.EVENT_READ:
                        for frame in conn.read_frames():
                            _handle_frame(session, term, frame)
        conn.flush(FLUSH_TIMEOUT)
        return 0
    except EOFError as exc:
        session.disconnected()
        term.show("Disconnected from server" + (f" ({exc})" if str(exc) else ""))
        return 1
    finally:
        conn.sock.close()


def _handle_frame(session, term, frame):
    """Whatever a server sends, the chat goes on: a frame that trips over
    something unforeseen is reported, not fatal."""
    try:
        session.handle_frame(frame)
    except Exception as exc:  # pylint: disable=broad-except
        term.show(f"[Error] A frame from the server could not be handled ({exc.__class__.__name__})")


def _read_input(fd):
    try:
        return os.read(fd, 64 * 1024)
    except OSError as exc:
        if exc.errno == errno.EIO:  # the terminal went away
            return b""
        raise


def main(argv=None):
    args = parse_args(argv)
    encoding = locale.getpreferredencoding(False) or "utf-8"
    term = Terminal(sys.stdin.fileno(), sys.stdout.fileno(), encoding)
    with term:
        try:
            return run(args, term)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
