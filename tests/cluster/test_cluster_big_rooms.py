"""A room's size must not grow what every node receives per event: a join
carries only the entrant's key to the room's nodes; the members' keys go to
the entrant's node alone. At 1/128 of Redis's default pub/sub output limit
(32 MiB -> 256 KiB) and with keys near the 16 KiB cap, a join event that
carried every member's key would pass the limit at the 16th join, and Redis
would cut the event connection of every node with a member in the room."""

from cturn_client import form_room
from cturn_testcase import ServerTestCase

KEY = "K" * 16000
MEMBERS = 24


class BigRooms(ServerTestCase):
    cluster_nodes = 2

    async def test_joins_of_a_big_room_stay_within_the_pubsub_limit(self):
        reply = self.redis.command("CONFIG", "SET", "client-output-buffer-limit",
                                   "pubsub 262144 262144 0")
        self.assertEqual(reply, b"+OK\r\n")
        bystander = await self.connect(label="bystander", node=self.nodes[0])
        await bystander.register("bystander")
        await bystander.create("elsewhere")
        members = []
        for i in range(MEMBERS):
            member = await self.connect(label=f"m{i}", node=self.nodes[i % 2])
            await member.register(f"m{i}", pubkey=KEY)
            members.append(member)
        await form_room("big", *members)
        # Every node still serves: a message reaches the last joiner and the
        # bystander's room is untouched.
        await members[0].say("still here")
        await members[-1].expect_message("m0", {"content": "still here"})
        await bystander.say("alone")
        await bystander.expect_nothing()
