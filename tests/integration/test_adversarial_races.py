"""Races: clients that claim one username at the same instant, and many clients
creating, joining, leaving (and dropping out of) one room at once.

The room race checks consistency from the clients' own frames: every client
keeps a model of the room (its members from the key exchange when it enters,
then every joined / left / disconnected notice); every error must agree with
the client's own state; no frame may arrive from a room the client is not in.
At the end every client in the room must hold exactly the same member list,
a final broadcast must reach exactly those members, and once everyone left
the room must be gone (`create` succeeds again).

Random choices come from CTURN_TEST_SEED if set, else from a fresh seed; the
seed is in every failure message.
"""

import asyncio
import os
import random
import re
import time
import unittest

from adversary import DEFAULT_TIMEOUT, AdversaryTestCase, gather_all
from cturn_client import Client, Frame, command

ROOM = "arena"
NOTICE = re.compile(r"^(\S+) (joined the room|left the room|disconnected|created the room)$")


def new_seed():
    return int(os.environ.get("CTURN_TEST_SEED") or random.randrange(1 << 32))


class RoomView:
    """What one client can tell about the room from the frames it receives."""

    def __init__(self, client, where):
        self.client = client
        self.name = client.name
        self.where = where  # for failure messages: seed and round
        self.in_room = False
        self.members = set()
        self.replies = 0  # welcome and error frames: one per command sent
        self.collecting_keys = False
        self.last = None
        self.synced = False
        self.rolls = []
        self.log = []

    def fail(self, why, frame):
        recent = "\n    ".join(self.log[-12:])
        raise AssertionError(f"[{self.name}] {why}: {frame!r} ({self.where}); its last frames:\n    {recent}")

    def apply(self, frame):
        self.log.append(repr(frame))
        kind, content = frame.type, frame.content
        previous, self.last = self.last, frame
        collecting, self.collecting_keys = self.collecting_keys, False
        if kind == "welcome":
            self.replies += 1
            if content == f"Created and joined room: {ROOM}" or content == f"Joined room: {ROOM}":
                if self.in_room:
                    self.fail("entered the room while in it", frame)
                self.in_room = True
                self.members = {self.name}
                self.collecting_keys = content.startswith("Joined")
            elif content == f"Left room: {ROOM}":
                if not self.in_room:
                    self.fail("left the room while not in it", frame)
                self.in_room = False
                self.members = set()
            else:
                self.fail("unexpected welcome", frame)
        elif kind == "error":
            self.replies += content != "You must join a room first"  # the sync probe is not counted
            if content == "Leave current room first":
                if not self.in_room:
                    self.fail("told to leave a room it is not in", frame)
            elif content in ("Not in any room", "Room already exists", "Room does not exist"):
                if self.in_room:
                    self.fail("error that contradicts being in the room", frame)
            elif content == "You must join a room first":  # the sync probe, outside the room
                if self.in_room:
                    self.fail("sync refused although in the room", frame)
                self.synced = True
            else:
                self.fail("unexpected error", frame)
        elif kind == "system":
            if not self.in_room:
                self.fail("ghost notice from a room it is not in", frame)
            match = NOTICE.match(content)
            if not match:
                self.fail("unexpected notice", frame)
            who, what = match.groups()
            if what == "created the room":
                if who != self.name or self.members != {self.name}:
                    self.fail("creation notice out of place", frame)
            elif what == "joined the room":
                if who in self.members:
                    self.fail("member joined twice", frame)
                self.members.add(who)
            else:
                if who not in self.members:
                    self.fail("a non-member left", frame)
                self.members.remove(who)
        elif kind == "pubkey":
            if not self.in_room:
                self.fail("key from a room it is not in", frame)
            if content != f"key-{frame.sender}":
                self.fail("wrong key", frame)
            if collecting:  # the members present when we entered
                if frame.sender in self.members:
                    self.fail("two keys from one member", frame)
                self.members.add(frame.sender)
                self.collecting_keys = True
            elif not (previous is not None and previous.type == "system"
                      and previous.content == f"{frame.sender} joined the room"):
                self.fail("key not right after its owner joined", frame)
        elif kind == "message":
            if not self.in_room:
                self.fail("message from a room it is not in", frame)
            if frame.sender == self.name and frame.content == "sync":
                self.synced = True
            elif frame.content == f"roll-{frame.sender}":
                if frame.sender not in self.members:
                    self.fail("roll call from a non-member", frame)
                self.rolls.append(frame.sender)
            else:
                self.fail("unexpected message", frame)
        else:
            self.fail("unexpected frame", frame)


def repr_created(name):
    return repr(Frame(b'{"type":"system","body":{"content":"%s created the room"}}' % name.encode()))


class UsernameRace(AdversaryTestCase):
    async def contenders(self, count):
        clients = [await Client.connect(self.server.host, self.server.port) for _ in range(count)]
        self.clients.extend(clients)
        # Make sure every session is live before the race: one error reply each.
        for client in clients:
            await client.send(b"?\n")
        for client in clients:
            await client.expect_error("Invalid JSON format")
        return clients

    async def race(self, clients, name):
        for client in clients:  # back to back, no await in between
            client.writer.write(b'{"type":"username","body":{"content":"%s"}}\n' % name.encode())
        await gather_all(*(client.writer.drain() for client in clients))
        replies = [await client.recv() for client in clients]
        winners = [c for c, r in zip(clients, replies) if r.content == f"Username set to: {name}"]
        losers = [c for c, r in zip(clients, replies) if r == {"type": "error", "body": {"content": "Username already taken"}}]
        self.assertEqual(len(winners), 1, f"{name}: {replies}")
        self.assertEqual(len(winners) + len(losers), len(clients), f"{name}: {replies}")
        return winners[0], losers

    async def test_two_clients_claim_one_name(self):
        pair = await self.bystanders()
        for round_ in range(150):
            name = f"twin{round_}"
            winner, (loser,) = await self.race(await self.contenders(2), name)
            winner.name = name
            # The loser is still unregistered and can take another name.
            await loser.register(f"{name}b")
            if round_ % 10 == 0:  # the name is free again once its owner is gone
                await winner.close()
                reply = await self.retry_while(loser, command("username", name), "Username already taken")
                self.assertEqual(reply, {"type": "error", "body": {"content": "Username already set"}})
                again = await self.connect()
                reply = await self.retry_while(again, command("username", name), "Username already taken")
                self.assertEqual(reply.content, f"Username set to: {name}")
            for client in list(self.clients):
                if client not in (pair.a, pair.b):
                    await client.close()
                    self.clients.remove(client)
        await pair.exchange()
        await self.assert_fresh_client_served()

    async def test_many_clients_claim_one_name(self):
        for round_ in range(20):
            clients = await self.contenders(8)
            winner, losers = await self.race(clients, f"crowd{round_}")
            for client in clients:
                await client.expect_nothing()
                await client.close()
                self.clients.remove(client)
        await self.assert_fresh_client_served()


class RoomRace(AdversaryTestCase):
    STEPS = 80
    DROPOUTS = 2

    async def register_all(self, prefix, count):
        clients = []
        for i in range(count):
            client = await self.connect(label=f"{prefix}{i}")
            await client.register(f"{prefix}{i}", pubkey=f"key-{prefix}{i}")
            clients.append(client)
        return clients

    async def consume(self, view):
        while True:
            try:
                line = await view.client.reader.readline()
            except ConnectionError:
                return
            if not line:
                return
            view.apply(Frame(line.rstrip(b"\n")))

    async def wait_for(self, predicate, what, readers, timeout=DEFAULT_TIMEOUT):
        """Wait for `predicate`; a model violation in a reader task fails at once."""
        deadline = time.monotonic() + timeout
        while not predicate():
            for task in readers:
                if task.done() and not task.cancelled() and task.exception():
                    raise task.exception()
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.01)

    async def race_round(self, round_, seed, count, weights):
        rng = random.Random(seed)
        where = f"seed {seed}, round {round_}"
        clients = await self.register_all(f"r{round_}c", count)
        views = {client: RoomView(client, where) for client in clients}
        readers = {client: asyncio.create_task(self.consume(views[client])) for client in clients}
        dropouts = set(rng.sample(clients, min(self.DROPOUTS, count // 3)))
        sent = {client: 0 for client in clients}

        async def sync(what):
            """A message to oneself comes after every frame queued for one before it."""
            for client in alive:
                views[client].synced = False
                await client.say("sync", to=client.name)
            await self.wait_for(lambda: all(views[c].synced for c in alive), f"{what} ({where})", readers.values())

        async def drive(client):
            steps = rng.randrange(self.STEPS // 2, self.STEPS + 1)
            drop_at = rng.randrange(steps) if client in dropouts else None
            done = 0
            while done < steps:
                burst = []
                for _ in range(min(rng.randint(1, 4), steps - done)):
                    op = rng.choices(("create", "join", "leave"), weights=weights)[0]
                    burst.append(command("leave") if op == "leave" else command(op, ROOM))
                await client.send(*burst)
                sent[client] += len(burst)
                done += len(burst)
                if drop_at is not None and done >= drop_at:
                    if rng.random() < 0.5:
                        client.abort()  # reset, maybe with replies in flight
                    else:
                        await client.close()
                    return
                await asyncio.sleep(rng.random() * 0.004)

        try:
            await gather_all(*(drive(client) for client in clients))
            alive = [client for client in clients if client not in dropouts]
            await self.wait_for(lambda: all(views[c].replies == sent[c] for c in alive),
                                f"every reply ({where})", readers.values())
            await sync("the sync")

            inside = {c.name for c in alive if views[c].in_room}
            creations = sum(v.log.count(repr_created(v.name)) for v in views.values())
            self.note(f"{where}: {sum(sent.values())} commands, room created {creations} times, "
                      f"{len(inside)} in it at the end")
            for client in alive:
                if views[client].in_room:
                    self.assertEqual(views[client].members, inside,
                                     f"[{client.name}] sees other members than the room has ({where})")
            # Roll call: reaches exactly the members.
            for client in alive:
                if views[client].in_room:
                    await client.say(f"roll-{client.name}")
            await self.wait_for(lambda: all(len(views[c].rolls) == len(inside) - 1
                                            for c in alive if views[c].in_room), f"the roll call ({where})", readers.values())
            await sync("the sync after the roll call")  # a roll call too many would come before it
            for client in alive:
                expected = sorted(inside - {client.name}) if views[client].in_room else []
                self.assertEqual(sorted(views[client].rolls), expected, f"[{client.name}] roll call ({where})")
            # Everyone leaves; the room must be gone.
            for client in alive:
                if views[client].in_room:
                    await client.send(command("leave"))
                    sent[client] += 1
            await self.wait_for(lambda: all(views[c].replies == sent[c] and not views[c].in_room for c in alive),
                                f"everyone out ({where})", readers.values())
        finally:
            for task in readers.values():
                task.cancel()
            await asyncio.gather(*readers.values(), return_exceptions=True)
        for task in readers.values():  # a model violation surfaces here
            if not task.cancelled() and task.exception():
                raise task.exception()
        probe = await self.user(f"r{round_}probe")
        await probe.send(command("join", ROOM))
        await probe.expect_error("Room does not exist")
        await probe.send(command("create", ROOM))
        await probe.expect_welcome(f"Created and joined room: {ROOM}")
        await probe.expect_system(f"{probe.name} created the room")
        for client in clients + [probe]:
            await client.close()
            self.clients.remove(client)

    async def test_create_join_leave_race(self):
        pair = await self.bystanders()
        seed = new_seed()
        # (clients, weights of create / join / leave): fewer clients and more
        # leaves empty the room often, so creations race with joins too.
        configurations = [(12, (3, 4, 3)), (6, (4, 3, 5)), (3, (3, 2, 6)), (2, (3, 2, 5)), (8, (3, 3, 4))]
        for round_, (count, weights) in enumerate(configurations * 2):
            await self.race_round(round_, seed + round_, count, weights)
            await pair.exchange(1)
        await pair.assert_quiet()
        await self.assert_fresh_client_served()

    async def test_everyone_creates_at_once(self):
        seed = new_seed()
        for round_ in range(15):
            clients = await self.register_all(f"c{round_}x", 10)
            views = {client: RoomView(client, f"round {round_}") for client in clients}
            readers = [asyncio.create_task(self.consume(views[c])) for c in clients]
            try:
                for client in clients:
                    client.writer.write(b'{"type":"create","body":{"content":"%s"}}\n' % ROOM.encode())
                await gather_all(*(client.writer.drain() for client in clients))
                await self.wait_for(lambda: all(v.replies == 1 for v in views.values()), "create replies", readers)
                creators = [c for c in clients if views[c].in_room]
                self.assertEqual(len(creators), 1, f"round {round_}: {len(creators)} creators")
                # Now the losers all join at once while the creator leaves.
                losers = [c for c in clients if c not in creators]
                creators[0].writer.write(b'{"type":"leave","body":{}}\n')
                for client in losers:
                    client.writer.write(b'{"type":"join","body":{"content":"%s"}}\n' % ROOM.encode())
                await gather_all(*(client.writer.drain() for client in clients))
                await self.wait_for(lambda: all(v.replies == 2 for v in views.values()), "join replies", readers)
                for client in clients:
                    await client.say("sync", to=client.name)
                await self.wait_for(lambda: all(v.synced for v in views.values()), "sync", readers)
                inside = {c.name for c in clients if views[c].in_room}
                for client in clients:
                    if views[client].in_room:
                        self.assertEqual(views[client].members, inside, f"[{client.name}] round {round_}")
            finally:
                for task in readers:
                    task.cancel()
                await asyncio.gather(*readers, return_exceptions=True)
            for task in readers:
                if not task.cancelled() and task.exception():
                    raise task.exception()
            for client in clients:
                await client.close()
                self.clients.remove(client)
            # All gone: the room must be deleted.
            probe = await self.user(f"probe{round_}")
            reply = await self.retry_while(probe, command("create", ROOM), "Room already exists")
            self.assertEqual(reply.content, f"Created and joined room: {ROOM}", f"seed {seed}")
            await probe.expect_system(f"probe{round_} created the room")
            await probe.close()
            self.clients.remove(probe)
        await self.assert_fresh_client_served()


if __name__ == "__main__":
    unittest.main()
