#!/usr/bin/env python3
"""Protocol smoke test against an already running CTurn server (stdlib only).

    docker-smoke.py HOST PORT              every command once, plus errors
    docker-smoke.py --await-shutdown HOST PORT
        connect, set a username, print "ready", then wait for the server to
        say "Server shutting down" and close; exit 0 only if both happen.
    docker-smoke.py --welcome HOST PORT
        one attempt: set a username, exit 0 only if the server welcomes it.
    docker-smoke.py --tls CAFILE [one of the above]
        the same over TLS, the server's certificate checked against CAFILE
        for HOST (each client prints the TLS version it got).
    docker-smoke.py --source-cap N HOST PORT
        hold N connections from this address, then want the next one told
        "Too many connections from your address" and closed, while the N held
        ones are still served (N = the per-source cap, or the sum of the
        nodes' caps behind a balancer that spreads the connections evenly).

Used by .ci/docker-test against the container, and by .ci/serve-check against
whatever the README's serve command started, where the Python harness in
tests/client cannot start its own server. Names are randomised so the script
can run against a server that other clients (or an earlier run) are using.
"""

import json
import os
import secrets
import socket
import ssl
import sys
import time

# How long to wait for each frame; shorter while polling a cluster that is
# failing over (.ci/docker-test), so that a failed attempt ends soon.
TIMEOUT = float(os.environ.get("CTURN_SMOKE_TIMEOUT", "10"))
# Set by --tls: every connection speaks TLS, verified against its CA file.
TLS = None


class Client:
    def __init__(self, host, port, name):
        self.name = name
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        if TLS is not None:
            self.sock = TLS.wrap_socket(self.sock, server_hostname=host)
            print(f"{name}: {self.sock.version()}", flush=True)
        self.buf = b""

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, type_, **body):
        self.send_raw(json.dumps({"type": type_, "body": body}).encode() + b"\n")

    def recv(self, timeout=TIMEOUT):
        """Next frame as a dict, or None on EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no frame within {timeout}s")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                if self.buf:
                    raise AssertionError(f"{self.name}: EOF inside a frame: {self.buf!r}")
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def expect(self, type_, content=None, sender=None):
        frame = self.recv()
        ok = frame is not None and frame.get("type") == type_
        if ok and content is not None:
            ok = frame.get("body", {}).get("content") == content
        if ok and sender is not None:
            ok = frame.get("sender") == sender
        if not ok:
            raise AssertionError(
                f"{self.name}: expected type={type_} content={content!r} sender={sender!r}, "
                f"got {frame!r}")
        return frame

    def expect_error(self, text):
        return self.expect("error", text)

    def sync(self):
        """Prove nothing else is queued for this client: an error reply to a
        bad frame must be the very next thing it receives, since frames to
        one client keep the order the server produced them in."""
        self.send("no-such-command", content="x")
        self.expect_error("Invalid message type")

    def close(self):
        self.sock.close()


def smoke(host, port):
    tag = secrets.token_hex(4)
    alice_name, bob_name, carol_name = (f"{n}-{tag}" for n in ("alice", "bob", "carol"))
    room = f"smoke-{tag}"
    key_a, key_b = f"PEM-A-{tag}", f"PEM-B-{tag}"
    steps = 0

    def step(what):
        nonlocal steps
        steps += 1
        print(f"ok {steps} {what}", flush=True)

    alice = Client(host, port, "alice")
    # Error replies before a username; the connection has to stay usable.
    alice.send("create", content=room)
    alice.expect_error("You must set a username first")
    alice.send_raw(b"{not json\n")
    alice.expect_error("Invalid JSON format")
    alice.send_raw(b"[1,2]\n")
    alice.expect_error("Invalid message format")
    step("error replies before a username")

    # A frame split over two writes must be reassembled.
    frame = json.dumps({"type": "username", "body": {"content": alice_name, "pubkey": key_a}})
    alice.send_raw(frame[:7].encode())
    time.sleep(0.05)
    alice.send_raw(frame[7:].encode() + b"\n")
    alice.expect("welcome", f"Username set to: {alice_name}")
    alice.send("username", content="again")
    alice.expect_error("Username already set")
    step("username (split frame), username already set")

    bob = Client(host, port, "bob")
    bob.send("username", content=alice_name)
    bob.expect_error("Username already taken")
    bob.send("username", content=f"  {bob_name}\t", pubkey=key_b)
    bob.expect("welcome", f"Username set to: {bob_name}")
    carol = Client(host, port, "carol")
    carol.send("username", content=carol_name)  # no key registered
    carol.expect("welcome", f"Username set to: {carol_name}")
    step("username taken, trimmed, with and without pubkey")

    alice.send("join", content=room)
    alice.expect_error("Room does not exist")
    alice.send("create", content=room)
    alice.expect("welcome", f"Created and joined room: {room}")
    alice.expect("system", f"{alice_name} created the room")
    bob.send("create", content=room)
    bob.expect_error("Room already exists")
    alice.sync()
    step("create")

    bob.send("join", content=room)
    bob.expect("welcome", f"Joined room: {room}")
    bob.expect("pubkey", key_a, sender=alice_name)
    alice.expect("system", f"{bob_name} joined the room")
    alice.expect("pubkey", key_b, sender=bob_name)
    step("join with pubkey exchange")

    # Two frames in one write: both must be handled.
    carol.send_raw(
        json.dumps({"type": "join", "body": {"content": room}}).encode() + b"\n"
        + json.dumps({"type": "join", "body": {"content": room}}).encode() + b"\n")
    carol.expect("welcome", f"Joined room: {room}")
    keys = {}
    for _ in range(2):  # one per member with a key; order between members is not fixed
        f = carol.expect("pubkey")
        keys[f["sender"]] = f["body"]["content"]
    assert keys == {alice_name: key_a, bob_name: key_b}, keys
    carol.expect_error("Leave current room first")
    for c in (alice, bob):
        c.expect("system", f"{carol_name} joined the room")
        c.sync()  # carol has no key, so no pubkey frame may follow
    step("join without pubkey, two frames in one write, leave current room first")

    body = {"content": f"hello-{tag}", "encrypted": True, "iv": "AAAA"}
    alice.send("message", **body)
    for c in (bob, carol):
        f = c.expect("message", sender=alice_name)
        assert f["body"] == body, f
    alice.sync()  # no echo to the sender
    step("message broadcast, body relayed untouched, no echo")

    direct = {"content": f"psst-{tag}", "to": carol_name}
    bob.send("message", **direct)
    f = carol.expect("message", sender=bob_name)
    assert f["body"] == direct, f
    bob.send("message", content="to nobody", to=f"gone-{tag}")  # dropped silently
    bob.send("message", content="bad", to=None)
    bob.expect_error("Invalid message content")
    for c in (alice, bob, carol):
        c.sync()
    step("directed message, unknown recipient dropped, to=null rejected")

    carol.send("leave")
    carol.expect("welcome", f"Left room: {room}")
    for c in (alice, bob):
        c.expect("system", f"{carol_name} left the room")
    carol.send("leave", content="")
    carol.expect_error("Not in any room")
    carol.send("message", content="anyone?")
    carol.expect_error("You must join a room first")
    step("leave, not in any room, message outside a room")

    bob.close()
    alice.expect("system", f"{bob_name} disconnected")
    alice.sync()
    step("disconnect announced")

    # The username is free again once its owner has gone.
    # The protocol does not order "disconnected" against the name being
    # released, so allow the server a moment.
    bob2 = Client(host, port, "bob2")
    for _ in range(20):
        bob2.send("username", content=bob_name)
        f = bob2.recv()
        if f != {"type": "error", "body": {"content": "Username already taken"}}:
            break
        time.sleep(0.05)
    # The welcome's body may carry more than its content (a resume token).
    assert f.get("type") == "welcome" and f.get("body", {}).get("content") == f"Username set to: {bob_name}", f
    for c in (alice, carol, bob2):
        c.close()
    step("username reusable after disconnect")
    print(f"{steps} passed, 0 failed", flush=True)


def await_shutdown(host, port):
    c = Client(host, port, "listener")
    c.send("username", content=f"listener-{secrets.token_hex(4)}")
    c.expect("welcome")
    print("ready", flush=True)
    saw_notice = False
    while True:
        frame = c.recv(timeout=120)
        if frame is None:
            break
        print(json.dumps(frame), flush=True)
        if frame == {"type": "system", "body": {"content": "Server shutting down"}}:
            saw_notice = True
    print("notice received, then EOF" if saw_notice else "EOF without the shutdown notice",
          flush=True)
    return 0 if saw_notice else 1


def welcome(host, port):
    name = f"x-{secrets.token_hex(4)}"
    try:
        c = Client(host, port, "newcomer")
        c.send("username", content=name)
        c.expect("welcome", f"Username set to: {name}")
    except (AssertionError, OSError, ValueError) as e:
        print(f"no welcome: {e}", flush=True)
        return 1
    c.close()
    print(f"welcome: Username set to: {name}", flush=True)
    return 0


def source_cap(host, port, cap):
    held = [Client(host, port, f"held-{i}") for i in range(cap)]
    # A refused connection is accepted first and then told so: only an
    # answer to a username shows that a held one got through.
    tag = secrets.token_hex(4)
    for i, c in enumerate(held):
        c.send("username", content=f"held-{i}-{tag}")
    for c in held:
        c.expect("welcome")
    print(f"ok {cap} connections held", flush=True)
    extra = Client(host, port, "over-the-cap")
    extra.expect_error("Too many connections from your address")
    try:
        extra.send("username", content=f"extra-{tag}")
        frame = extra.recv(timeout=5)
    except (ConnectionResetError, BrokenPipeError):
        frame = None
    assert frame is None, f"connection {cap + 1} then got {frame!r}, want it closed"
    print(f"ok connection {cap + 1} refused: Too many connections from your address",
          flush=True)
    held[0].sync()
    for c in held:
        c.close()
    print("ok the held connections still served", flush=True)


def main(argv):
    global TLS
    if len(argv) >= 2 and argv[0] == "--tls":
        TLS = ssl.create_default_context(cafile=argv[1])
        argv = argv[2:]
    if len(argv) == 3 and argv[0] == "--await-shutdown":
        return await_shutdown(argv[1], int(argv[2]))
    if len(argv) == 3 and argv[0] == "--welcome":
        return welcome(argv[1], int(argv[2]))
    if len(argv) == 4 and argv[0] == "--source-cap":
        try:
            source_cap(argv[2], int(argv[3]), int(argv[1]))
        except (AssertionError, OSError, ValueError) as e:
            print(f"FAIL: {e}", flush=True)
            return 1
        return 0
    if len(argv) == 2:
        try:
            smoke(argv[0], int(argv[1]))
        except (AssertionError, OSError, ValueError) as e:
            print(f"FAIL: {e}", flush=True)
            print("0 passed, 1 failed", flush=True)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
