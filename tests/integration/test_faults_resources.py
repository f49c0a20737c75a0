"""Resource limits under attack: the connection cap and descriptor exhaustion.

- Connection cap: every extra client gets `Server full` and is closed (even one
  that never reads or closes), members are unaffected, and a slot is reusable
  after any kind of disconnect.
- Descriptor exhaustion: the server runs with RLIMIT_NOFILE 64 and
  --max-connections 0, so only the descriptor limit bounds it (32 sessions, the
  rest kept back). Turned-away sockets, each held up to 1 s, use up the rest,
  and accept() fails with EMFILE. The server must not spin while saturated,
  must keep serving its clients, and must accept again once descriptors free.
- The metrics endpoint under the same limit: idle scrapers take every
  descriptor; its accept() must back off on EMFILE like the client port's,
  not spin, and chat must go on.
- Allocation failure: the server's address space is capped (RLIMIT_AS, plain
  builds only: sanitizers reserve terabytes of it) while one client sends a
  line that outgrows it (--max-line-bytes 1 GiB). The failure must end that
  connection, like any other fault: closed, its room told, its name and
  descriptor freed; everybody else is unaffected.
"""

import asyncio
import os
import re
import signal
import socket
import time
import unittest

from adversary import (MIB, DEFAULT_TIMEOUT, AdversaryTestCase, gather_all, limit_address_space,
                       restore_address_space, sanitizer_of)
from cturn_client import command, form_room

SERVER_FULL = b'{"type":"error","body":{"content":"Server full"}}\n'


class ConnectionCap(AdversaryTestCase):
    server_flags = ("--max-connections", "4", "--username-timeout-ms", "1000",
                    "--shutdown-grace-ms", "500")

    async def fill(self):
        pair = await self.bystanders()
        fillers = [await self.user(f"filler{i}") for i in range(2)]
        return pair, fillers

    async def assert_refused(self, peer, timeout=DEFAULT_TIMEOUT):
        data, how = await peer.read_until_closed(timeout)
        self.assertEqual(data, SERVER_FULL, f"[{peer.label}]")
        self.assertIn(how, ("eof", "reset"), f"[{peer.label}]")
        peer.close()

    async def test_burst_of_extra_clients(self):
        pair, fillers = await self.fill()
        fd_baseline = self.probe.fd_count()
        extras = await gather_all(*(self.raw(f"extra{i}") for i in range(40)))
        # Some of them even try to register.
        for peer in extras[::3]:
            await peer.try_send(command("username", peer.label), timeout=1)
        await pair.exchange()
        await gather_all(*(self.assert_refused(peer) for peer in extras))
        self.assertEqual(await self.probe.wait_for_fds(fd_baseline), fd_baseline)
        await pair.exchange()
        self.assertEqual(len([l for l in self.server.lines if " server-full " in l]), 40)
        for filler in fillers:
            await filler.close()
            self.clients.remove(filler)
        await self.assert_fresh_client_served(retry_full=True)

    async def test_refused_client_that_never_reads_nor_closes(self):
        pair, _ = await self.fill()
        fd_baseline = self.probe.fd_count()
        stubborn = [await self.raw(f"stubborn{i}", rcvbuf=4096) for i in range(10)]
        started = time.monotonic()
        # Never read, never close: the server lets go of each one within about 1 s.
        count = await self.probe.wait_for_fds(fd_baseline, timeout=DEFAULT_TIMEOUT)
        self.assertEqual(count, fd_baseline, "turned-away sockets were not released")
        self.assertLess(time.monotonic() - started, 2.5)
        for peer in stubborn:
            data, how = await peer.read_until_closed()
            self.assertEqual(data, SERVER_FULL)
        await pair.exchange()

    async def test_slot_reusable_after_every_kind_of_disconnect(self):
        pair, fillers = await self.fill()
        fd_baseline = self.probe.fd_count()

        async def refill(label):
            """A new client takes the free slot (retrying while the old one is closing)."""
            deadline = time.monotonic() + DEFAULT_TIMEOUT
            while True:
                peer = await self.raw(label)
                await peer.try_send(command("username", label), timeout=1)
                data, _ = await peer.read_until_closed(timeout=0.5)
                if data.startswith(b'{"type":"welcome"'):
                    return peer
                self.assertTrue(data in (SERVER_FULL, b""), data)
                peer.close()
                self.assertLess(time.monotonic() - deadline, 0, f"slot never freed for {label}")
                await asyncio.sleep(0.05)

        # Orderly close.
        await fillers[0].close()
        first = await refill("after-close")
        # Reset.
        first.reset()
        second = await refill("after-reset")
        # Half-close.
        second.shutdown_write()
        third = await refill("after-half-close")
        # Line too long (the server closes).
        await third.send(b"z" * 70000 + b"\n")
        fourth = await refill("after-line-too-long")
        # An unregistered slot holder that times out.
        fourth.reset()
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while True:  # retry while the reset connection's slot is being freed
            squatter = await self.raw("squatter")
            data, _ = await squatter.read_until_closed(timeout=1.0 + DEFAULT_TIMEOUT)
            squatter.close()
            if data != SERVER_FULL or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        self.assertEqual(data, b'{"type":"error","body":{"content":"Username not set in time"}}\n')
        await refill("after-timeout")
        await pair.exchange()
        self.assertLessEqual(self.probe.fd_count(), fd_baseline)


class DescriptorExhaustion(AdversaryTestCase):
    server_nofile = 64
    server_flags = ("--max-connections", "0", "--shutdown-grace-ms", "1000")
    SESSIONS = 32  # 64 descriptors minus the 32 the server keeps back
    EXTRAS = 60

    async def test_saturated_descriptor_table(self):
        self.server.wait_for_log(rf"\blistening\b.*\bmax_connections={self.SESSIONS}\b")
        pair = await self.bystanders()
        fillers = [await self.user(f"filler{i}") for i in range(self.SESSIONS - 2)]
        fd_sessions = self.probe.fd_count()
        log_mark = len(self.server.lines)

        # Extras that neither read nor close: the server turns each away and
        # holds its socket up to 1 s, until no descriptor is left.
        extras = await gather_all(*(self.raw(f"extra{i}") for i in range(self.EXTRAS)))
        self.server.wait_for_log(r"\baccept-error\b", start=log_mark)
        self.note(f"descriptors: {self.probe.fd_count()} (sessions only: {fd_sessions})")

        await self.assert_idle_cpu("while accept() fails with EMFILE", limit=0.15 if self.plain_build else 0.3)
        # Existing clients are served meanwhile.
        await pair.exchange()
        for index, filler in enumerate(fillers[:10]):
            await filler.send(command("create", f"room{index}"))
            await filler.expect_welcome(f"Created and joined room: room{index}")
            await filler.expect_system(f"{filler.name} created the room")

        # Every extra is turned away in the end, with the notice.
        async def refused(peer):
            data, how = await peer.read_until_closed(timeout=15)
            self.assertEqual(data, SERVER_FULL, f"[{peer.label}] ({how})")
            peer.close()
        await gather_all(*(refused(peer) for peer in extras))
        self.server.wait_for_log(r"\baccept-resumed\b", start=log_mark)
        self.assertEqual(await self.probe.wait_for_fds(fd_sessions), fd_sessions)

        # Free two sessions: new clients are accepted and served.
        for filler in fillers[-2:]:
            await filler.close()
            self.clients.remove(filler)
        await self.assert_fresh_client_served(retry_full=True)
        await pair.exchange()
        await self.assert_idle_cpu("after the saturation")

    async def test_sessions_freed_while_saturated_are_reused(self):
        self.server.wait_for_log(r"\blistening\b")
        pair = await self.bystanders()
        fillers = [await self.user(f"filler{i}") for i in range(self.SESSIONS - 2)]
        log_mark = len(self.server.lines)
        extras = await gather_all(*(self.raw(f"extra{i}") for i in range(self.EXTRAS)))
        for peer in extras:  # queued in the kernel until the server accepts
            await peer.send(command("username", peer.label))
        self.server.wait_for_log(r"\baccept-error\b", start=log_mark)
        # Two sessions end while accept() is failing.
        for filler in fillers[:2]:
            filler.abort()
            self.clients.remove(filler)
        # Every extra is either turned away or, for the two free slots, served.
        results = await gather_all(*(self.outcome(peer) for peer in extras))
        self.assertEqual(sorted(set(results)), ["refused", "served"], results)
        self.assertEqual(results.count("served"), 2, results)
        await pair.exchange()
        await self.assert_idle_cpu("after the saturation")

    async def test_sigterm_while_saturated(self):
        self.server.wait_for_log(r"\blistening\b")
        pair = await self.bystanders()
        fillers = [await self.user(f"filler{i}") for i in range(self.SESSIONS - 2)]
        log_mark = len(self.server.lines)
        extras = await gather_all(*(self.raw(f"extra{i}") for i in range(self.EXTRAS)))
        self.server.wait_for_log(r"\baccept-error\b", start=log_mark)
        started = time.monotonic()
        self.server.send_signal(signal.SIGTERM)
        for client in (pair.a, pair.b, *fillers):
            await client.expect_system("Server shutting down")
        code = await asyncio.to_thread(self.server.wait)
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - started, 1.0 + 2.0)
        for peer in extras:  # turned away or never accepted: never served
            data, how = await peer.read_until_closed(timeout=DEFAULT_TIMEOUT)
            self.assertIn(data, (b"", SERVER_FULL), f"[{peer.label}]")
            self.assertIn(how, ("eof", "reset"), f"[{peer.label}]")

    async def outcome(self, peer):
        # The welcome's resume token is random: the rest is compared.
        welcome_start = f'{{"type":"welcome","body":{{"content":"Username set to: {peer.label}","resume":"'.encode()
        welcome = re.compile(re.escape(welcome_start) + rb'[0-9a-f]{32}"}}\n')
        could_become_welcome = lambda data: (welcome_start.startswith(data) or data.startswith(welcome_start)
                                             and len(data) < len(welcome_start) + 35)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if peer.received == SERVER_FULL:
                data, how = await peer.read_until_closed(timeout=5)
                self.assertEqual((data, how in ("eof", "reset")), (b"", True), f"[{peer.label}]")
                peer.close()
                return "refused"
            if welcome.fullmatch(peer.received):
                return "served"
            if not (SERVER_FULL.startswith(peer.received) or could_become_welcome(peer.received)):
                return f"unexpected {peer.received[:200]!r}"
            _, how = await peer.read_until_closed(timeout=0.1)
            if how != "timeout" and peer.received != SERVER_FULL and not welcome.fullmatch(peer.received):
                return f"closed ({how}) after {peer.received[:200]!r}"
        return f"no answer within 15 s: {peer.received[:200]!r}"


class MetricsDescriptorExhaustion(AdversaryTestCase):
    server_nofile = 64
    server_flags = ("--max-connections", "0", "--metrics", "127.0.0.1:0")
    SCRAPERS = 60  # more than the descriptors left, fewer than the endpoint's cap of 64

    async def test_idle_scrapers_cannot_make_the_endpoint_spin(self):
        line = self.server.wait_for_log(r"\bmetrics-listening\b")
        port = int(re.search(r"\bport=(\d+)", line).group(1))
        pair = await self.bystanders()
        log_mark = len(self.server.lines)
        scrapers = []
        try:
            for _ in range(self.SCRAPERS):  # the kernel completes them all; the server runs out
                scrapers.append(socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT))
            self.server.wait_for_log(r"\bmetrics-accept-error\b", start=log_mark)
            await self.assert_idle_cpu("while the metrics accept() fails with EMFILE",
                                       limit=0.15 if self.plain_build else 0.3)
            await pair.exchange()
        finally:
            for scraper in scrapers:
                scraper.close()
        self.server.wait_for_log(r"\bmetrics-accept-resumed\b", start=log_mark)


class AllocationFailure(AdversaryTestCase):
    server_flags = ("--max-line-bytes", str(1 << 30), "--shutdown-grace-ms", "1000", "--rate-limit", "0",
                    "--rate-limit-bytes", "0")
    HEADROOM = 160 * MIB  # address space left to the server beyond its size at the start
    MAX_FLOOD = 1024 * MIB

    async def asyncSetUp(self):
        sanitizer = sanitizer_of(os.environ.get("CTURN_SERVER_BINARY", ""))
        if sanitizer is not None:
            self.skipTest(f"RLIMIT_AS cannot be used with sanitizers ({sanitizer} build)")
        await super().asyncSetUp()

    async def test_allocation_failure_ends_only_that_connection(self):
        pair = await self.bystanders()
        alice, hog = await self.users("alice", "hog")
        await form_room("lobby", alice, hog)
        fd_baseline = self.probe.fd_count()
        limit_address_space(self.probe.pid, self.HEADROOM)
        try:
            hog.stop_reading()
            sent, outcome = 0, "sent"
            chunk = b"x" * MIB  # one line, no newline: the read buffer must grow
            while sent < self.MAX_FLOOD:
                try:
                    await asyncio.wait_for(hog.send(chunk), 3)
                except asyncio.TimeoutError:
                    outcome = "blocked"
                    break
                except ConnectionError:
                    outcome = "closed"
                    break
                sent += len(chunk)
            self.note(f"flood of {sent >> 20} MiB ended: {outcome}")
            self.server.wait_for_log(r"bad_alloc|session-error|hub-error|io-error")
            # The hog's connection ends (an error frame before the close is fine).
            hog.resume_reading()
            lines = await hog.drain_until_closed(timeout=DEFAULT_TIMEOUT)
            for line in lines:
                self.assertIn(b'"type":"error"', line)
            await alice.expect_system("hog disconnected")
            self.assertEqual(await self.probe.wait_for_fds(fd_baseline - 1), fd_baseline - 1)
        finally:
            restore_address_space(self.probe.pid)
        again = await self.connect()
        reply = await self.retry_while(again, command("username", "hog"), "Username already taken")
        self.assertEqual(reply.content, "Username set to: hog")
        await pair.exchange()
        await self.assert_fresh_client_served()


if __name__ == "__main__":
    unittest.main()
