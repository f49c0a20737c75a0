"""What a name may hold (usernames and room names alike): the PRECIS
UsernameCasePreserved profile or stricter. Invisible, formatting and
unassigned characters, spaces other than one U+0020 between parts, a leading
combining mark, and right-to-left names that break the Bidi Rule are
`Invalid username` / `Invalid room name`; usernames may not hold the chat
client's label characters either. Real names in any script are accepted. Also
run against a 3-node cluster (each client of a test on the next node)."""

import unittest

from cturn_client import command, form_room
from cturn_testcase import ServerTestCase

INVALID_USER = "Invalid username"
INVALID_ROOM = "Invalid room name"

# Each appended to "alice" while alice is online: none may pass for her.
INVISIBLE_OR_UNSAFE = {
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "combining grapheme joiner": "\u034f",
    "soft hyphen": "\u00ad",
    "variation selector 16": "\ufe0f",
    "tag letter a": "\U000e0061",
    "Hangul filler": "\u3164",
    "no-break space": "\u00a0",
    "ideographic space": "\u3000",
    "left-to-right mark": "\u200e",
    "right-to-left override": "\u202e",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "private use": "\ue000",
    "unassigned": "\u0378",
    "noncharacter": "\uffff",
}

INTERNATIONAL = ["Jos\u00e9", "Zo\u00eb", "\u0414\u043c\u0438\u0442\u0440\u0438\u0439",
                 "\u674e\u5c0f\u9f99", "\u0645\u062d\u0645\u062f",
                 "\u05d9\u05e9\u05e8\u05d0\u05dc", "\u00d1and\u00fa", "O'Brien", "anne-marie"]


def refused_variants(base):
    """`base` with each refused character, and with a leading combining mark."""
    variants = {what: base + char for what, char in INVISIBLE_OR_UNSAFE.items()}
    variants["leading combining mark"] = "\u0301" + base
    return variants


class UsernameProfile(ServerTestCase):
    async def assert_refused(self, client, name, error=INVALID_USER):
        await client.send(command("username", name))
        await client.expect_error(error)

    async def test_every_invisible_variant_of_a_name_in_use_is_invalid(self):
        await self.user("alice")
        client = await self.connect()
        for what, name in refused_variants("alice").items():
            with self.subTest(what):
                await self.assert_refused(client, name)
        await client.register("bob")

    async def test_a_variant_is_invalid_even_when_the_name_is_free(self):
        client = await self.connect()
        for what, name in refused_variants("carol").items():
            with self.subTest(what):
                await self.assert_refused(client, name)

    async def test_a_name_made_only_of_zero_width_spaces_is_invalid(self):
        client = await self.connect()
        for name in ["\u200b", "\u200b\u200b\u200b", " \u200b "]:
            await self.assert_refused(client, name)

    async def test_spaces_only_separate_parts(self):
        client = await self.connect()
        await self.assert_refused(client, "al  ice")
        await self.assert_refused(client, "\u00a0alice")
        await client.register("  al ice  ")

    async def test_names_that_could_pass_for_a_client_label_are_invalid(self):
        client = await self.connect()
        for name in ["alice (private)", "[System] bob", "bob: wire the money", "(you)", "[Key]"]:
            with self.subTest(name=name):
                await self.assert_refused(client, name)

    async def test_right_to_left_names_follow_the_bidi_rule(self):
        client = await self.connect()
        for name in ["abc\u05d0", "\u05d0abc", "1\u05d0", "\u05d0!", "\u0645" + "1\u0661"]:
            with self.subTest(name=name):
                await self.assert_refused(client, name)
        await client.register("\u05d0\u05d12")

    async def test_what_only_the_freeform_class_allows_is_invalid(self):
        client = await self.connect()
        for name in ["\U0001F600", "price\u20ac", "\uff47\uff4f\uff4f\uff47\uff4c\uff45",
                     "\ufb01le", "x\u00b2", "\u2160", "\u00bfqu\u00e9"]:
            with self.subTest(name=name):
                await self.assert_refused(client, name)
        await client.register("stra\u00dfe")

    async def test_real_names_in_any_script_are_accepted(self):
        clients = [await self.user(name) for name in INTERNATIONAL]
        await form_room("lobby", *clients)


class RoomNameProfile(ServerTestCase):
    async def test_every_invisible_variant_of_a_room_name_is_invalid(self):
        alice = await self.user("alice")
        await alice.create("lobby")
        bob = await self.user("bob")
        for what, name in refused_variants("lobby").items():
            with self.subTest(what):
                for verb in ("create", "join"):
                    await bob.send(command(verb, name))
                    await bob.expect_error(INVALID_ROOM)
        await bob.join("lobby")
        await alice.expect_system("bob joined the room")

    async def test_room_names_in_any_script_and_with_brackets_are_accepted(self):
        alice = await self.user("alice")
        for name in [*INTERNATIONAL, "[team] (private): plans"]:
            with self.subTest(name=name):
                await alice.create(name)
                await alice.leave()


if __name__ == "__main__":
    unittest.main()
