#!/usr/bin/env python3
"""A rolling restart of a running cluster, with two scripts/chat users in
one room through its balancer: docs/cluster.md's "Rolling upgrade of the
Compose cluster", performed.

    compose-rolling-restart.py --port PORT --replace CMD --states CMD
        [--ready CMD] [--host HOST] [--tls-ca FILE] [--window SECONDS] NODE...

--replace CMD replaces one node (the shell command, run by bash, with {node}
    standing for the node's name; .ci/docker-test gives Compose's
    `up -d --no-deps --no-build --force-recreate {node}`).
--states CMD prints the balancer's view, one "NODE STATUS" line per server
    (HAProxy's status page; `UP` when it routes to the node).
--ready CMD succeeds once the new node serves ({node} as above; .ci/docker-test
    looks for `cluster-ready` in the new container's log). Waited for before
    the balancer's UP, which may still be its view of the old node when the
    replacement was quicker than its checks.
--tls-ca FILE: the first user speaks TLS, checked against FILE; the second
    plain TCP, as the original client does.

For each node in turn: replace it, wait until the balancer routes to it
again, then check that both users still talk both ways. The users of the
replaced node must reconnect and resume on another one (one `[Reconnected]`
line; a line typed while offline arrives). Past the last node's resume
window, once more. Neither user may see the other leave, join or disconnect,
nor rejoin the room; every user must have been moved at least once (every
node is replaced, including the one each user started on).

Used by .ci/docker-test; the same steps with the real binaries and HAProxy
(without containers) are cluster.test_cluster_rolling_restart."""

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time

REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPOSITORY, "tests", "chat"))
sys.path.insert(0, os.path.join(REPOSITORY, "tests", "client"))

from chat_process import ChatProcess, pattern  # noqa: E402

# Each wait is generous: containers starting on a busy two-core machine.
FRAME_TIMEOUT = 30.0
ROUTED_TIMEOUT = 90.0
# A stuck `compose up` or `docker exec` must end the run, not hang CI.
REPLACE_TIMEOUT = 180.0
COMMAND_TIMEOUT = 30.0
GONE_OR_BACK = re.compile(r"\[System\] (\S+) (disconnected|left the room|joined the room)")
LOST = pattern("[Offline] Connection lost")


def log(text):
    print(text, flush=True)


class Run:
    def __init__(self, args, home):
        self.args = args
        suffix = secrets.token_hex(3)
        self.names = (f"ann{suffix}", f"ben{suffix}")
        self.room = f"rolling{suffix}"
        self.home = home
        self.chats = {}
        self.typed_offline = []  # (name, line)

    def chat(self, name, tls):
        flags = ["--host", self.args.host, "--port", str(self.args.port), "--username", name]
        if tls:
            flags += ["--tls", "--tls-ca", self.args.tls_ca]
        process = ChatProcess(name, flags, os.path.join(self.home, name))
        self.chats[name] = process
        process.expect(f"[Server] Username set to: {name}", FRAME_TIMEOUT)
        return process

    def form_room(self):
        first, second = self.names
        a = self.chat(first, tls=self.args.tls_ca is not None)
        a.type(f"/create {self.room}")
        a.expect(f"[System] {first} created the room", FRAME_TIMEOUT)
        b = self.chat(second, tls=False)
        b.type(f"/join {self.room}")
        b.expect(f"[Key] Received public key from {first}", FRAME_TIMEOUT)
        a.expect(f"[Key] Received public key from {second}", FRAME_TIMEOUT)

    def talk(self, step):
        first, second = self.names
        a, b = self.chats[first], self.chats[second]
        a.type(f"ping {step}")
        b.expect(f"{first}: ping {step}", FRAME_TIMEOUT)
        b.type(f"pong {step}")
        a.expect(f"{second}: pong {step}", FRAME_TIMEOUT)

    def states(self):
        result = subprocess.run(self.args.states, shell=True, executable="/bin/bash",
                                capture_output=True, text=True, check=False,
                                timeout=COMMAND_TIMEOUT)
        if result.returncode != 0:
            raise AssertionError(f"--states failed ({result.returncode}): {result.stderr.strip()}")
        return dict(line.split(None, 1) for line in result.stdout.splitlines() if " " in line)

    def wait_routed(self, node, since):
        deadline = time.monotonic() + ROUTED_TIMEOUT
        while self.args.ready and time.monotonic() < deadline:
            ready = subprocess.run(self.args.ready.format(node=node), shell=True,
                                   executable="/bin/bash", capture_output=True, check=False,
                                   timeout=COMMAND_TIMEOUT)
            if ready.returncode == 0:
                break
            time.sleep(0.5)
        while time.monotonic() < deadline:
            states = self.states()
            # Exactly UP: "UP 1/2" is a node whose checks began to fail.
            if states.get(node) == "UP":
                return time.monotonic() - since
            time.sleep(0.5)
        raise AssertionError(f"{node} not routed to {ROUTED_TIMEOUT:.0f} s after its replacement"
                             f" began: {self.states()}")

    def type_when_offline(self, name, marks, stop, node):
        """Types one line into `name`'s chat once it shows the connection
        lost (after line `marks[name]`), while the replacement goes on."""
        chat = self.chats[name]
        while not stop.is_set():
            if any(LOST.fullmatch(line) for line in chat.lines()[marks[name]:]):
                line = f"{name} typed while reconnecting, {node}"
                chat.type(line)
                self.typed_offline.append((name, line, node))
                return
            time.sleep(0.02)

    def replace(self, node):
        marks = {name: len(chat.lines()) for name, chat in self.chats.items()}
        stop = threading.Event()
        watchers = [threading.Thread(target=self.type_when_offline, args=(name, marks, stop, node))
                    for name in self.names]
        for watcher in watchers:
            watcher.start()
        t0 = time.monotonic()
        try:
            result = subprocess.run(self.args.replace.format(node=node), shell=True,
                                    executable="/bin/bash", capture_output=True, text=True,
                                    check=False, timeout=REPLACE_TIMEOUT)
            if result.returncode != 0:
                raise AssertionError(f"replacing {node} failed ({result.returncode}):"
                                     f" {result.stdout}{result.stderr}")
            replaced = time.monotonic() - t0
            routed = self.wait_routed(node, t0)
        finally:
            stop.set()
            for watcher in watchers:
                watcher.join()
        moved = []
        for name, chat in self.chats.items():
            if any(LOST.fullmatch(line) for line in chat.lines()[marks[name]:]):
                chat.expect("[Reconnected]", FRAME_TIMEOUT)
                moved.append(name)
        for name, line, where in self.typed_offline:
            if where == node:
                other = self.names[1] if name == self.names[0] else self.names[0]
                self.chats[other].expect(f"{name}: {line}", FRAME_TIMEOUT)
        log(f"{node}: replaced in {replaced:.1f} s, routed to again {routed:.1f} s after the"
            f" replacement began; moved: {', '.join(moved) or 'nobody'}")
        if len(moved) > 1:
            # Balancing by least connections should never put both on one
            # node; if it did, lines typed offline had no one to reach
            # until both were back, and the checks above waited for that.
            log(f"NOTE: both users were on {node}")
        return moved

    def assert_no_leave_or_join(self, formed):
        for name, chat in self.chats.items():
            seen = [line for line in chat.lines()[formed[name]:] if GONE_OR_BACK.fullmatch(line)]
            rejoined = [line for line in chat.lines() if "rejoined" in line]
            if seen or rejoined:
                raise AssertionError(f"{name} saw: {seen + rejoined}")

    def run(self):
        self.form_room()
        self.talk("before")
        formed = {name: len(chat.lines()) for name, chat in self.chats.items()}
        moves = {name: 0 for name in self.names}
        last = time.monotonic()
        for node in self.args.nodes:
            for name in self.replace(node):
                moves[name] += 1
            # After the replacement returned: the old node was signalled
            # before, so its window ends before `last` + the window.
            last = time.monotonic()
            self.talk(f"after {node}")
            self.assert_no_leave_or_join(formed)
        # The names the last replaced node parked are reaped when its window
        # ends: those resumed elsewhere must not be announced then either.
        time.sleep(max(0.0, last + self.args.window + 2.0 - time.monotonic()))
        self.talk("past the window")
        self.assert_no_leave_or_join(formed)
        never = [name for name, count in moves.items() if count == 0]
        if never:
            raise AssertionError(f"never moved to another node: {never} (moves: {moves})")
        if not self.typed_offline:
            raise AssertionError("no line was typed while a user was offline")
        for chat in self.chats.values():
            warnings = [line for line in chat.lines() if "[Warning]" in line]
            if warnings:
                raise AssertionError(f"{chat.label} warned: {warnings}")
            chat.type("/quit")
            if chat.wait(FRAME_TIMEOUT) != 0:
                raise AssertionError(f"{chat.label} did not quit cleanly")
        log(f"rolling restart: both users kept their room; moves per user: {moves};"
            f" lines typed offline and delivered: {len(self.typed_offline)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--replace", required=True)
    parser.add_argument("--states", required=True)
    parser.add_argument("--ready")
    parser.add_argument("--tls-ca")
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("nodes", nargs="+")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        run = Run(args, home)
        try:
            run.run()
        except (AssertionError, subprocess.TimeoutExpired) as failure:
            print(f"FAIL: {failure}", file=sys.stderr)
            for name, chat in run.chats.items():
                print(f"---- {name}'s screen ----\n" + "\n".join(chat.lines()), file=sys.stderr)
            return 1
        finally:
            for chat in run.chats.values():
                chat.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
