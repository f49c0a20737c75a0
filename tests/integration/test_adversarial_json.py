"""Adversarial JSON: invalid UTF-8, lone surrogate escapes, NaN and huge numbers,
deep nesting (64 levels at most), duplicate keys (the last one wins) and
trailing data after the object.

The sender is in a room with two others: every bad line gets its exact error
and nothing reaches the room; the connection stays open (a valid message still
goes through afterwards), bystanders in another room lose nothing and a fresh
client is served. Each batch is sent line by line, then all pipelined in one
write, then split in the middle of the offending bytes."""

import asyncio
import unittest

from adversary import AdversaryTestCase
from cturn_client import command, expect_quiet, form_room, short


def message_with(fields):
    """A message frame whose body is {"content":"x",<fields>} (fields as raw JSON text)."""
    return b'{"type":"message","body":{"content":"x",' + fields + b"}}"


INVALID_UTF8 = [
    message_with(b'"iv":"\x80"'),  # continuation byte without a lead
    message_with(b'"iv":"\xc3"'),  # truncated 2-byte sequence at the end of a string
    message_with(b'"iv":"\xc3\x28"'),  # lead byte, then not a continuation
    message_with(b'"iv":"\xe2\x82"'),  # truncated 3-byte sequence
    message_with(b'"iv":"\xf0\x9f\x98"'),  # truncated 4-byte sequence
    message_with(b'"iv":"\xc0\x80"'),  # overlong NUL
    message_with(b'"iv":"\xc1\xbf"'),  # overlong
    message_with(b'"iv":"\xe0\x80\xaf"'),  # overlong "/"
    message_with(b'"iv":"\xf0\x80\x80\xaf"'),  # overlong "/"
    message_with(b'"iv":"\xed\xa0\x80"'),  # UTF-8-encoded high surrogate
    message_with(b'"iv":"\xed\xbf\xbf"'),  # UTF-8-encoded low surrogate
    message_with(b'"iv":"\xed\xa0\xbd\xed\xb8\x80"'),  # CESU-8 emoji
    message_with(b'"iv":"\xf4\x90\x80\x80"'),  # above U+10FFFF
    message_with(b'"iv":"\xf5\x80\x80\x80"'),
    message_with(b'"iv":"\xf8\x88\x80\x80\x80"'),  # 5-byte form
    message_with(b'"iv":"\xfe\xff"'),
    message_with(b'"iv":"caf\xe9"'),  # Latin-1
    message_with(b'"\xff":1'),  # in a key
    b'{"type":"message","body":{"content":"\xff"}}',  # in the content
    b'{"type":"mess\xffage","body":{"content":"x"}}',  # in the type
    b'{"type":"message","body":{"content":"x"}}\xff',  # after the object
    b'\xef\xbb\xbf{"type":"message","body":{"content":"x"}}',  # a UTF-8 BOM is not JSON white space
]

LONE_SURROGATES = [
    message_with(b'"iv":"\\ud800"'),
    message_with(b'"iv":"\\udbff"'),
    message_with(b'"iv":"\\uDBFF"'),
    message_with(b'"iv":"\\udc00"'),
    message_with(b'"iv":"\\udfff"'),
    message_with(b'"iv":"\\ud800x"'),
    message_with(b'"iv":"\\ud800\\u0041"'),  # high surrogate, then not a low one
    message_with(b'"iv":"\\ud800\\ud800"'),  # two high surrogates
    message_with(b'"iv":"\\udc00\\ud800"'),  # reversed pair
    message_with(b'"iv":"\\ud83d"'),  # the first half of an emoji
    message_with(b'"iv":"\\ude00"'),  # the second half
    message_with(b'"iv":"a\\ud800"'),  # at the end of a string
    message_with(b'"\\ud800":1'),  # in a key
    b'{"type":"message","body":{"content":"\\udfff"}}',  # in the content
    b'{"type":"message","body":{"content":"x","to":"\\ud800"}}',  # in the recipient
]

BAD_NUMBERS = [b"NaN", b"-NaN", b"nan", b"Infinity", b"-Infinity", b"infinity", b"inf", b"+1",
               b"01", b"-01", b"1.", b".5", b"0x1F", b"1e", b"1e+", b"-", b"--1", b"1.0e-",
               b"1_000", b"\xd9\xa1"]  # the last: ARABIC-INDIC DIGIT ONE

# Valid JSON of any size: relayed byte for byte. (Python's own parser in the
# test client refuses integers over 4300 digits, so 4000 it is.)
HUGE_NUMBERS = [b"1e400", b"-1e400", b"1e-400", b"1E+308", b"1e2147483647", b"-0",
                b"0." + b"0" * 500 + b"1", b"123456789012345678901234567890.123456789e-12345",
                b"9" * 4000, b"-" + b"1" * 4000]
# Exponents that do not fit in 32 bits: still valid JSON (RFC 8259 sets no bound).
HUGE_EXPONENTS = [b"1e2147483648", b"1e99999999999999999999", b"1e-99999999999999999999",
                  b"-2.5E+9999999999", b"1e" + b"9" * 1000]


class HostileJson(AdversaryTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.pair = await self.bystanders()
        self.alice, self.bob, self.carol = await self.users("alice", "bob", "carol")
        await form_room("lobby", self.alice, self.bob, self.carol)
        self.round = 0

    async def assert_still_relaying(self):
        self.round += 1
        await self.alice.say(f"still here {self.round}")
        for member in (self.bob, self.carol):
            await member.expect_message("alice", {"content": f"still here {self.round}"})
        await expect_quiet(self.alice, self.bob, self.carol)

    async def assert_rejected(self, lines, error, split_at=None):
        """Each line once by itself, then all in one write, then each split in
        two reads at `split_at(line)`; every one answered with `error`."""
        for line in lines:
            await self.alice.send(line + b"\n")
            try:
                await self.alice.expect_error(error)
            except AssertionError as exc:
                raise AssertionError(f"after sending {short(line)}: {exc}") from None
        await self.assert_still_relaying()
        await self.alice.send(b"".join(line + b"\n" for line in lines))
        for line in lines:
            try:
                await self.alice.expect_error(error)
            except AssertionError as exc:
                raise AssertionError(f"pipelined, for {short(line)}: {exc}") from None
        await self.assert_still_relaying()
        if split_at is not None:
            for line in lines:
                cut = split_at(line)
                await self.alice.send(line[:cut])
                await asyncio.sleep(0.02)
                await self.alice.send(line[cut:] + b"\n")
                try:
                    await self.alice.expect_error(error)
                except AssertionError as exc:
                    raise AssertionError(f"split at {cut}, for {short(line)}: {exc}") from None
            await self.assert_still_relaying()
        await self.pair.exchange()
        await self.pair.assert_quiet()

    async def test_invalid_utf8(self):
        def first_bad_byte(line):
            return next(i for i, b in enumerate(line) if b >= 0x80) + 1
        await self.assert_rejected(INVALID_UTF8, "Invalid JSON format", split_at=first_bad_byte)
        # Before registration too, and the username is still free afterwards.
        stranger = await self.connect()
        await stranger.send(b'{"type":"username","body":{"content":"dave\xff"}}\n')
        await stranger.expect_error("Invalid JSON format")
        await stranger.register("dave")
        await self.assert_fresh_client_served()

    async def test_lone_surrogate_escapes(self):
        await self.assert_rejected(LONE_SURROGATES, "Invalid JSON format",
                                   split_at=lambda line: line.index(b"\\u") + 3)
        stranger = await self.connect()
        await stranger.send(b'{"type":"username","body":{"content":"eve\\ud800"}}\n')
        await stranger.expect_error("Invalid JSON format")
        await stranger.send(b'{"type":"username","body":{"content":"eve","pubkey":"\\udc00"}}\n')
        await stranger.expect_error("Invalid JSON format")
        await stranger.register("eve")
        await self.assert_fresh_client_served()

    async def test_valid_surrogate_pairs_are_relayed_verbatim(self):
        body = b'{"content":"\\ud83d\\ude00 \\uD83D\\uDE00","iv":"\\udbff\\udfff"}'
        await self.alice.send(b'{"type":"message","body":' + body + b"}\n")
        for member in (self.bob, self.carol):
            await member.expect_message("alice", raw_body=body)
        await self.assert_still_relaying()

    async def test_nan_infinity_and_malformed_numbers(self):
        lines = [message_with(b'"n":' + number) for number in BAD_NUMBERS]
        lines += [message_with(b'"n":[1,' + number + b"]") for number in BAD_NUMBERS[:6]]
        await self.assert_rejected(lines, "Invalid JSON format",
                                   split_at=lambda line: line.index(b'"n":') + 5)
        await self.assert_fresh_client_served()

    async def relay_numbers(self, numbers):
        for number in numbers:
            body = b'{"content":"n","n":' + number + b',"a":[' + number + b"]}"
            cut = 40 + len(body) // 2
            line = b'{"type":"message","body":' + body + b"}\n"
            await self.alice.send(line[:cut])
            await asyncio.sleep(0.01)
            await self.alice.send(line[cut:])
            for member in (self.bob, self.carol):
                try:
                    await member.expect_message("alice", raw_body=body, timeout=2)
                except AssertionError as exc:
                    errors = await self.alice.frames_before_barrier()
                    raise AssertionError(f"number {short(number)} not relayed ({exc}); "
                                         f"alice got {errors}") from None

    async def test_huge_exponents_are_valid_and_relayed_verbatim(self):
        await self.relay_numbers(HUGE_EXPONENTS)
        await self.assert_still_relaying()

    async def test_huge_numbers_are_valid_and_relayed_verbatim(self):
        await self.relay_numbers(HUGE_NUMBERS)
        # Where a string is required, a huge number is still the wrong type.
        await self.alice.send(b'{"type":"message","body":{"content":1e400}}\n',
                              b'{"type":"message","body":{"content":"x","to":' + b"9" * 4000 + b"}}\n",
                              b'{"type":1e400,"body":{"content":"x"}}\n')
        await self.alice.expect_error("Invalid message content")
        await self.alice.expect_error("Invalid message content")
        await self.alice.expect_error("Invalid message format")
        await self.assert_still_relaying()
        await self.pair.exchange()
        await self.assert_fresh_client_served()

    async def test_nesting_up_to_64_levels(self):
        # The envelope is level 1 and the body level 2: 62 more levels fit.
        arrays = b"[" * 62 + b"]" * 62
        objects = b'{"a":' * 61 + b"{}" + b"}" * 61
        for inner in (arrays, objects, b"[" * 61 + b"{}" + b"]" * 61):
            body = b'{"content":"deep","n":' + inner + b"}"
            await self.alice.send(b'{"type":"message","body":' + body + b"}\n")
            for member in (self.bob, self.carol):
                await member.expect_message("alice", raw_body=body)
        await self.assert_still_relaying()

    async def test_nesting_beyond_64_levels(self):
        lines = [
            message_with(b'"n":' + b"[" * 63 + b"]" * 63),
            message_with(b'"n":' + b'{"a":' * 62 + b"{}" + b"}" * 62),
            message_with(b'"n":' + b"[" * 1000 + b"]" * 1000),
            b"[" * 65 + b"]" * 65,  # not an object, but row 2 comes first
            b"[" * 30000 + b"]" * 30000,
            b"[" * 60000,  # never closed
            b'{"a":' * 13000,
            message_with(b'"n":' + b'[{"a":' * 5000),
        ]
        await self.assert_rejected(lines, "Invalid JSON format", split_at=lambda line: len(line) // 2)
        # 64 levels that are not an object: a format error, not a JSON one.
        await self.alice.send(b"[" * 64 + b"]" * 64 + b"\n")
        await self.alice.expect_error("Invalid message format")
        await self.assert_fresh_client_served()

    async def test_duplicate_keys_last_one_wins(self):
        alice, bob, carol = self.alice, self.bob, self.carol
        # Two bodies: the second is the one relayed, byte for byte.
        await alice.send(b'{"type":"message","body":{"content":"first"},"body":{"content":"second"}}\n')
        for member in (bob, carol):
            frame = await member.expect_message("alice", raw_body=b'{"content":"second"}')
            self.assertNotIn(b"first", frame.raw)
        # A body of the wrong type, replaced by a valid one: accepted (and the reverse is not).
        await alice.send(b'{"type":"message","body":5,"body":{"content":"fixed"}}\n')
        for member in (bob, carol):
            await member.expect_message("alice", {"content": "fixed"})
        await alice.send(b'{"type":"message","body":{"content":"x"},"body":5}\n')
        await alice.expect_error("Invalid message format")
        # Duplicate content: the last decides validity; the body travels as written.
        await alice.send(b'{"type":"message","body":{"content":"a","content":""}}\n')
        await alice.expect_error("Invalid message content")
        body = b'{"content":"","content":"b"}'
        await alice.send(b'{"type":"message","body":' + body + b"}\n")
        for member in (bob, carol):
            await member.expect_message("alice", raw_body=body)
        # Duplicate recipients: only the last one receives.
        body = b'{"content":"psst","to":"bob","to":"carol"}'
        await alice.send(b'{"type":"message","body":' + body + b"}\n")
        await carol.expect_message("alice", raw_body=body)
        await bob.expect_nothing(after=[alice])
        await alice.send(b'{"type":"message","body":{"content":"x","to":5,"to":"bob"}}\n')
        await bob.expect_message("alice", {"content": "x", "to": "bob"})
        await alice.send(b'{"type":"message","body":{"content":"x","to":"bob","to":null}}\n')
        await alice.expect_error("Invalid message content")
        # Duplicate types.
        await alice.send(b'{"type":"leave","type":"message","body":{"content":"typed"}}\n')
        for member in (bob, carol):
            await member.expect_message("alice", {"content": "typed"})
        stranger = await self.connect()
        await stranger.send(b'{"type":"create","type":"username","body":{"content":"x"},"body":{"content":"dave"}}\n')
        await stranger.expect_welcome("Username set to: dave")
        await stranger.send(b'{"type":"username","body":{"content":"lobby"},"type":"join"}\n')
        await stranger.expect_welcome("Joined room: lobby")
        for member in (alice, bob, carol):
            await member.expect_system("dave joined the room")
        await self.assert_still_relaying()
        await stranger.expect_message("alice")
        await self.pair.exchange()
        await self.assert_fresh_client_served()

    async def test_body_found_among_decoys(self):
        # The relayed body is the envelope's last "body" member, however the
        # key is spelled, wherever look-alikes appear.
        cases = [
            (b'{"type":"message","b\\u006fdy":{"content":"esc"}}', b'{"content":"esc"}'),
            (b'{"type":"message","body":{"content":"1st"},"b\\u006fdy":{"content":"2nd"}}', b'{"content":"2nd"}'),
            (b'{"type":"message","b\\u006fdy":{"content":"1st"},"body":{"content":"2nd"}}', b'{"content":"2nd"}'),
            (b'{"x":{"body":1},"type":"message","body":{"content":"real"}}', b'{"content":"real"}'),
            (b'{"x":"\\"body\\":{","type":"message","body":{"content":"q\\\\"}}', b'{"content":"q\\\\"}'),
            (b'{"type":"message","body":{"content":"x","body":{"content":"inner"}}}',
             b'{"content":"x","body":{"content":"inner"}}'),
            (b'{"type":"message","body":{"content":"a}\\"{"},"z":"}"}', b'{"content":"a}\\"{"}'),
            (b'{"type":"message","body" :\t{"content":"sp"} }', b'{"content":"sp"}'),
            (b'{"type":"message","\\u0062ody":{"content":"a"},"body":5,"b\\u006fdy":{"content":"last"}}',
             b'{"content":"last"}'),
        ]
        for line, body in cases:
            await self.alice.send(line + b"\n")
            for member in (self.bob, self.carol):
                try:
                    frame = await member.expect_message("alice", raw_body=body)
                except AssertionError as exc:
                    raise AssertionError(f"for {line!r}: {exc}") from None
                self.assertEqual(frame.raw, b'{"type":"message","sender":"alice","body":' + body + b"}")
        await self.assert_still_relaying()

    async def test_trailing_data_after_the_object(self):
        valid = b'{"type":"message","body":{"content":"x"}}'
        lines = [valid + tail for tail in (
            b" x", b"{}", b" {}", b"[]", b",", b"]", b"}", b" null", b"\t\"x\"", b" 1", b"//c",
            b"/*c*/", b"\x00", b" \x00", b"\x0b", b"\x0c", b"\xc2\xa0", b"\x1b[0m")]
        lines.append(valid + valid)
        await self.assert_rejected(lines, "Invalid JSON format", split_at=lambda line: len(valid))
        # Two commands on one line: neither one runs.
        stranger = await self.user("dave")
        await stranger.send(b'{"type":"create","body":{"content":"r1"}}{"type":"create","body":{"content":"r2"}}\n')
        await stranger.expect_error("Invalid JSON format")
        for room in ("r1", "r2"):
            await stranger.send(command("join", room))
            await stranger.expect_error("Room does not exist")
        # Trailing JSON white space is fine (space, tab, CR).
        await self.alice.send(valid + b" \t \r\n")
        for member in (self.bob, self.carol):
            await member.expect_message("alice", {"content": "x"})
        await self.assert_fresh_client_served()

    async def test_raw_and_escaped_nul(self):
        await self.alice.send(b'{"type":"message","body":{"content":"a\x00b"}}\n')
        await self.alice.expect_error("Invalid JSON format")
        body = b'{"content":"a\\u0000b"}'
        await self.alice.send(b'{"type":"message","body":' + body + b"}\n")
        for member in (self.bob, self.carol):
            await member.expect_message("alice", raw_body=body)
        await self.assert_still_relaying()


if __name__ == "__main__":
    unittest.main()
