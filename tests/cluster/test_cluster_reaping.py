"""Reaping a big dead node is done in bounded runs: with 100 000 names on it,
20 000 of them in one room, no script blocks Redis for more than 50 ms, so
the live nodes' leases and link checks never wait long behind it. Real
processes: a redis-server, whose SLOWLOG measures each script, and nodes."""

import asyncio
import re
import time

from cturn_client import TIMEOUT_SCALE
from cturn_testcase import ServerTestCase

NAMES = 100_000
IN_ONE_ROOM = 20_000
SLOW_MICROSECONDS = 50_000

# A node as a crashed node leaves it: its names, one big room. Seeded in
# pieces while its lease is still there (a long pause for Redis would make
# the live nodes give up), then its lease goes, as when it dies.
SEED = """
-- seed-dead-node
local node, first, last, in_room = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('SET', 'cturn:lease:' .. node, '1')
redis.call('SADD', 'cturn:nodes', node)
for i = first, last do
  local name = 'ghost' .. i
  redis.call('SET', 'cturn:user:' .. name, node)
  redis.call('SADD', 'cturn:node-users:' .. node, name)
  if i <= in_room then
    redis.call('ZADD', 'cturn:room:big', redis.call('INCR', 'cturn:entry-counter'), name)
    redis.call('SET', 'cturn:where:' .. name, 'big')
  end
end
return 1
"""


ENTRY = re.compile(rb"\*6\r\n:\d+\r\n:\d+\r\n:(\d+)\r\n\*\d+\r\n\$\d+\r\n(\w+)\r\n")


def slow_scripts(slowlog):
    """Durations (µs) of the scripts in a raw SLOWLOG GET reply, but the seeding's."""
    entries = list(ENTRY.finditer(slowlog))
    durations = []
    for index, entry in enumerate(entries):
        end = entries[index + 1].start() if index + 1 < len(entries) else len(slowlog)
        if entry.group(2).upper() in (b"EVAL", b"EVALSHA") and b"seed-dead-node" not in slowlog[entry.start():end]:
            durations.append(int(entry.group(1)))
    return durations


class ReapingABigNode(ServerTestCase):
    cluster_nodes = 2

    async def test_no_script_runs_longer_than_50_ms(self):
        alice, bob = await self.lobby_across_nodes()
        command = self.redis.command
        self.assertEqual(await asyncio.to_thread(command, "CONFIG", "SET", "slowlog-log-slower-than",
                                                 str(SLOW_MICROSECONDS)), b"+OK\r\n")
        self.assertEqual(await asyncio.to_thread(command, "CONFIG", "SET", "slowlog-max-len", "1000"),
                         b"+OK\r\n")
        for first in range(1, NAMES + 1, 5000):
            seeded = await asyncio.to_thread(command, "EVAL", SEED, "0", "deadbeefdeadbeef", first,
                                             first + 4999, IN_ONE_ROOM)
            self.assertEqual(seeded, b":1\r\n")
        self.assertEqual(await asyncio.to_thread(command, "ZCARD", "cturn:room:big"),
                         f":{IN_ONE_ROOM}\r\n".encode())
        await asyncio.to_thread(command, "DEL", "cturn:lease:deadbeefdeadbeef")

        deadline = time.monotonic() + 60 * TIMEOUT_SCALE
        while await asyncio.to_thread(command, "SISMEMBER", "cturn:nodes", "deadbeefdeadbeef") != b":0\r\n":
            self.assertLess(time.monotonic(), deadline, "the dead node was not reaped")
            await asyncio.sleep(0.2)
        self.assertEqual(await asyncio.to_thread(command, "EXISTS", "cturn:room:big"), b":0\r\n")
        self.assertEqual(await asyncio.to_thread(command, "EXISTS", "cturn:user:ghost1"), b":0\r\n")

        # Every script slower than 50 ms, but the seeding itself. SLOWLOG
        # times the wall clock, so on a loaded machine a bounded script that
        # the kernel descheduled can pass 50 ms once; a script that grows with
        # the room took 1.3 s here. One such blip under 150 ms is let through.
        slow = await asyncio.to_thread(command, "SLOWLOG", "GET", "1000")
        offenders = slow_scripts(slow)
        self.assertLessEqual(len(offenders), 1, (offenders, slow[:2000]))
        self.assertTrue(all(micros < 3 * SLOW_MICROSECONDS for micros in offenders), (offenders, slow[:2000]))
        # The live nodes kept serving throughout.
        await alice.say("after the reaping")
        await bob.expect_message("alice", {"content": "after the reaping"})
