"""Lines in pieces (never cutting a UTF-8 character) and put back together."""

import unittest

from cturn_chat import crypto, pieces
from cturn_chat.pieces import Reassembler, split

LIMIT = crypto.PIECE_BYTES
WIDE = {2: "é", 3: "€", 4: "🙂"}


def pieces_of(text, limit=LIMIT):
    """Split `text` and check what every split must hold."""
    parts = split(text, limit)
    for part in parts:
        if not 0 < len(part) <= limit:
            raise AssertionError(f"piece of {len(part)} bytes (limit {limit})")
        part.decode("utf-8")  # raises if a character was cut
    if b"".join(parts) != text.encode():
        raise AssertionError("the pieces do not add up to the line")
    return parts


def reassemble(parts, sender="bob", kind=("k",), line_id="L1"):
    reassembler = Reassembler()
    lines = []
    for index, part in enumerate(parts):
        lines += reassembler.add(sender, part, kind, pieces.fields_of(pieces.piece_fields(line_id, index, len(parts))))
    return lines


class Split(unittest.TestCase):
    def test_ascii(self):
        self.assertEqual(split("", LIMIT), [])
        self.assertEqual(split("a" * LIMIT, LIMIT), [b"a" * LIMIT])
        self.assertEqual(split("a" * (LIMIT + 1), LIMIT), [b"a" * LIMIT, b"a"])
        self.assertEqual([len(p) for p in pieces_of("b" * 1000)], [214, 214, 214, 214, 144])

    def test_multibyte_character_at_every_cut_point(self):
        # For each width, the limit falls on each byte of the character in
        # turn: before it, inside it at every offset, right after it.
        for width, char in WIDE.items():
            for padding in range(LIMIT - width, LIMIT + 1):
                text = "a" * padding + char + "z"
                with self.subTest(width=width, padding=padding):
                    parts = pieces_of(text)
                    fits = padding + width <= LIMIT
                    self.assertEqual(parts[0], (text[:padding + 1] if fits else text[:padding]).encode())

    def test_only_wide_characters(self):
        for width, char in WIDE.items():
            with self.subTest(width=width):
                parts = pieces_of(char * 500)
                self.assertTrue(all(len(p) == LIMIT // width * width for p in parts[:-1]))

    def test_the_longest_line(self):
        for char in ("a", "é", "€", "🙂"):
            text = char * (pieces.MAX_LINE_BYTES // len(char.encode()))
            with self.subTest(char=char):
                parts = pieces_of(text)
                self.assertLessEqual(len(parts), pieces.MAX_PARTS)
                [line] = reassemble(parts)
                self.assertTrue(line.complete)
                self.assertEqual(line.text, text)
        self.assertEqual(len(pieces_of("€" * 21845, pieces.PLAIN_PIECE_BYTES)), 9)

    def test_a_limit_below_one_character_is_refused(self):
        with self.assertRaises(ValueError):
            split("🙂", 3)


class Reassembly(unittest.TestCase):
    def test_in_order(self):
        text = "".join(f"{i} €uro 🙂 " for i in range(100))
        [line] = reassemble(pieces_of(text))
        self.assertEqual((line.sender, line.text, line.complete, line.kind), ("bob", text, True, ("k",)))

    def test_a_whole_line_carries_no_piece_fields(self):
        self.assertEqual(pieces.piece_fields("L", 0, 1), {})
        self.assertEqual(pieces.piece_fields("L", 2, 5), {"line": "L", "part": 3, "parts": 5})

    def test_senders_interleaved(self):
        reassembler = Reassembler()
        got = []
        for part in (1, 2, 3):
            for sender in ("bob", "carol"):
                fields = ("L", part, 3)
                got += reassembler.add(sender, f"{sender}{part} ".encode(), (), fields)
        self.assertEqual([(l.sender, l.text, l.complete) for l in got],
                         [("bob", "bob1 bob2 bob3 ", True), ("carol", "carol1 carol2 carol3 ", True)])

    def test_a_missing_piece_is_shown_as_incomplete(self):
        reassembler = Reassembler()
        self.assertEqual(reassembler.add("bob", b"one ", (), ("A", 1, 3)), [])
        # Piece 2 of A never came; piece 3 breaks the sequence.
        lost = reassembler.add("bob", b"three", (), ("A", 3, 3))
        self.assertEqual([(l.text, l.complete) for l in lost], [("one ", False), ("three", False)])

    def test_a_new_line_releases_an_unfinished_one(self):
        reassembler = Reassembler()
        reassembler.add("bob", b"half", (), ("A", 1, 2))
        got = reassembler.add("bob", b"next", (), None)
        self.assertEqual([(l.text, l.complete) for l in got], [("half", False), ("next", True)])
        reassembler.add("bob", b"half", (), ("A", 1, 2))
        got = reassembler.add("bob", b"other", (), ("B", 1, 1))
        self.assertEqual([(l.text, l.complete) for l in got], [("half", False), ("other", True)])

    def test_pieces_of_another_kind_do_not_join(self):
        reassembler = Reassembler()
        reassembler.add("bob", b"secret ", ("encrypted",), ("A", 1, 2))
        got = reassembler.add("bob", b"plain", ("plain",), ("A", 2, 2))
        self.assertEqual([(l.text, l.kind, l.complete) for l in got],
                         [("secret ", ("encrypted",), False), ("plain", ("plain",), False)])

    def test_release_when_the_sender_leaves(self):
        reassembler = Reassembler()
        reassembler.add("bob", b"half", (), ("A", 1, 2))
        self.assertEqual([(l.text, l.complete) for l in reassembler.release("bob")], [("half", False)])
        self.assertEqual(reassembler.release("bob"), [])

    def test_what_is_held_is_bounded(self):
        first = pieces.fields_of(pieces.piece_fields("L", 0, 512))
        # One line longer than any line is let go as it is.
        reassembler = Reassembler(max_line_bytes=100)
        self.assertEqual(reassembler.add("bob", b"x" * 60, "k", first), [])
        [line] = reassembler.add("bob", b"y" * 60, "k", pieces.fields_of(pieces.piece_fields("L", 1, 512)))
        self.assertEqual((line.data, line.complete), (b"x" * 60 + b"y" * 60, False))
        # Many senders: the oldest is let go.
        reassembler = Reassembler(max_senders=3)
        released = [line for i in range(5) for line in reassembler.add(f"u{i}", b"z", "k", first)]
        self.assertEqual([(line.sender, line.complete) for line in released], [("u0", False), ("u1", False)])
        # Many bytes over several senders: the oldest go until it fits.
        reassembler = Reassembler(max_bytes=250)
        released = [line for i in range(4) for line in reassembler.add(f"u{i}", b"z" * 100, "k", first)]
        self.assertEqual([line.sender for line in released], ["u0", "u1"])
        self.assertEqual([line.sender for line in reassembler.release_all()], ["u2", "u3"])

    def test_fields_no_well_behaved_sender_writes(self):
        self.assertIsNone(pieces.fields_of({"content": "x"}))
        self.assertEqual(pieces.fields_of({"line": "A", "part": 1, "parts": 2}), ("A", 1, 2))
        for bad in ({"line": "A", "part": True, "parts": 2}, {"line": "A", "part": 0, "parts": 2},
                    {"line": "A", "part": 3, "parts": 2}, {"line": "A", "part": 1, "parts": pieces.MAX_PARTS + 1},
                    {"line": 7, "part": 1, "parts": 2}, {"line": "", "part": 1, "parts": 2},
                    {"line": "x" * 65, "part": 1, "parts": 2}, {"part": 1, "parts": 2},
                    {"line": "A", "part": 1.0, "parts": 2}):
            with self.subTest(body=bad):
                self.assertIsNone(pieces.fields_of(bad))


if __name__ == "__main__":
    unittest.main()
