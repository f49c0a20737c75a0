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
import time

from . import crypto, tls, trust
from .backoff import Backoff
from .paths import config_path
from .session import Session
from .terminal import Terminal

# A server frame is at most a client's line (64 KiB by default) plus the
# envelope and sender; far more without a newline is not a CTurn server.
MAX_FRAME_BYTES = 4 * 1024 * 1024
CONNECT_TIMEOUT = 10.0
FLUSH_TIMEOUT = 5.0
# A path that vanished (no FIN, no RST) is noticed within about 30 s: TCP
# keepalive after 15 s idle, 3 probes 5 s apart, and unacknowledged output
# given up after 30 s (TCP_USER_TIMEOUT). Then the chat reconnects.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 15, 5, 3
USER_TIMEOUT_MS = 30_000


class ServerBroken(EOFError):
    """The server broke the protocol: not a CTurn server, so not reconnected to."""


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
    parser.add_argument("--no-reconnect", dest="reconnect", action="store_false",
                        help="exit when the connection is lost instead of reconnecting")
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
        except OSError as exc:  # reset, timed out (keepalive), TLS failure
            raise EOFError(exc.strerror or str(exc)) from None
        del self.outgoing[:sent]

    def read_frames(self):
        """Frames received (as parsed JSON, or None for a line that is not
        JSON); raises EOFError once the server has closed."""
        try:
            data = self.sock.recv(256 * 1024)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return []
        except OSError as exc:
            raise EOFError(exc.strerror or str(exc)) from None
        if not data:
            raise EOFError("")
        *lines, self._incoming = (self._incoming + data).split(b"\n")
        if len(self._incoming) > MAX_FRAME_BYTES:
            raise ServerBroken("the server sent an endless line")
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
        _notice_vanished_paths(sock)
        if tls_options is not None:
            sock = tls.wrap(sock, host, port, **tls_options)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _notice_vanished_paths(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", KEEPALIVE_IDLE), ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
                          ("TCP_KEEPCNT", KEEPALIVE_COUNT), ("TCP_USER_TIMEOUT", USER_TIMEOUT_MS)):
        if hasattr(socket, option):  # Linux has them all
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def tls_options(args, show):
    if not args.tls:
        return None
    pins = tls.PinStore(tls.default_pin_path()) if args.tls_pin else None
    return {"cafile": args.tls_ca, "pin_store": pins, "repin": args.tls_repin, "show": show}


def _show_tls_refusal(term, exc):
    for line in str(exc).splitlines():
        term.show(line if line.startswith("[") else f"[TLS] {line}")


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
    options = tls_options(args, term.show)
    try:
        conn = Connection(connect(args.host, args.port, options))
    except tls.TlsRefused as exc:
        _show_tls_refusal(term, exc)
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
    if options is not None:
        # Later connections check the server exactly as the first did; the key
        # pinned (or re-pinned) then is the only one accepted from now on.
        options = dict(options, repin=False)
    return Chat(args, term, session, conn, options).run()


class Chat:
    """The event loop: the user's input, the server's frames, and when the
    connection is lost, reconnecting (with backoff) while input goes on."""

    def __init__(self, args, term, session, conn, options):
        self.args, self.term, self.session, self.conn = args, term, session, conn
        self.options = options
        self.backoff = Backoff()
        self.connected_at = time.monotonic()
        self.retry_at = None  # when offline: the time of the next attempt
        self.selector = selectors.DefaultSelector()
        self.selector.register(term.in_fd, selectors.EVENT_READ, "input")
        self.selector.register(conn.sock, selectors.EVENT_READ, "server")
        self.input_open = True

    def run(self):
        session = self.session
        try:
            while not session.quit and session.comeback.gave_up is None:
                self.term.set_prompt(session.prompt, question=session.needs_name)
                if self.conn is None and time.monotonic() >= self.retry_at:
                    self._reconnect()
                    continue
                self._wait_and_handle()
            if session.comeback.gave_up is not None:
                self._give_up(session.comeback.gave_up)
                return 1
            unsent = len(session.comeback.queue)
            if unsent:
                self.term.show(f"[Offline] {unsent} queued line(s) NOT sent")
            if self.conn is not None:
                self.conn.flush(FLUSH_TIMEOUT)
            return 0
        except ServerBroken as exc:
            return self._disconnected(str(exc))
        finally:
            if self.conn is not None:
                self.conn.sock.close()

    def _wait_and_handle(self):
        conn, session = self.conn, self.session
        timeout = None
        if conn is None:
            timeout = max(0.0, self.retry_at - time.monotonic())
        else:
            self.selector.modify(conn.sock, selectors.EVENT_READ
                                 | (selectors.EVENT_WRITE if conn.outgoing else 0), "server")
        for key, events in self.selector.select(timeout):
            if key.data == "input" and self.input_open:
                for event in self.term.read(_read_input(self.term.in_fd)):
                    if event[0] == "eof":
                        session.quit = True
                        self.input_open = False
                        self.selector.unregister(self.term.in_fd)
                        break
                    session.handle_input(event[1])
                    if session.quit:
                        break
                    self.term.set_prompt(session.prompt, question=session.needs_name)
            elif key.data == "server" and self.conn is conn:
                try:
                    if events & selectors.EVENT_WRITE:
                        conn.write_some()
                    if events & selectors.EVENT_READ:
                        for frame in conn.read_frames():
                            _handle_frame(session, self.term, frame)
                except ServerBroken:
                    raise
                except EOFError as exc:
                    self._lost(str(exc))
                    return

    def _lost(self, why):
        self.selector.unregister(self.conn.sock)
        self.conn.sock.close()
        self.conn = None
        if not self.args.reconnect:
            raise ServerBroken(why)
        self.backoff.connection_lasted(time.monotonic() - self.connected_at)
        self.session.connection_lost()
        delay = self.backoff.next_delay()
        self.retry_at = time.monotonic() + delay
        because = f" ({why})" if why else ""
        self.term.show(f"[Offline] Connection lost{because}: reconnecting in {delay:.1f} s;"
                       " lines typed meanwhile are queued, /quit leaves")

    def _reconnect(self):
        args = self.args
        try:
            sock = connect(args.host, args.port, self.options)
        except tls.TlsRefused as exc:
            _show_tls_refusal(self.term, exc)
            self.session.comeback.gave_up = "Not reconnecting: the server is not the one trusted before."
            return
        except ssl.SSLCertVerificationError as exc:
            self.session.comeback.gave_up = (f"Not reconnecting: no TLS with {args.host}:{args.port}:"
                                             f" {exc.verify_message or exc.reason}")
            return
        except OSError as exc:  # refused, unreachable, timed out, TLS handshake cut
            delay = self.backoff.next_delay()
            self.retry_at = time.monotonic() + delay
            self.term.show(f"[Offline] Reconnecting failed ({exc.strerror or exc}): next try in {delay:.1f} s")
            return
        self.conn = Connection(sock)
        self.connected_at = time.monotonic()
        self.selector.register(sock, selectors.EVENT_READ, "server")
        self.session.attach(self.conn.send)

    def _give_up(self, why):
        self.term.show(f"[Offline] {why}")
        unsent = len(self.session.comeback.queue)
        if unsent:
            self.term.show(f"[Offline] {unsent} queued line(s) NOT sent")

    def _disconnected(self, why):
        self.session.disconnected()
        self.term.show("Disconnected from server" + (f" ({why})" if why else ""))
        return 1


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
