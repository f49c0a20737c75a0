"""Nothing a peer sends acts on the user's terminal, and no key the user
presses (arrows, function keys) ends up in a message."""

import os
import re
import unittest

from cturn_chat.sanitize import REPLACEMENT, char_width, sanitize
from cturn_chat.terminal import LineEditor, Terminal

# What a terminal acts on: C0 and C1 controls (ESC and CSI start sequences).
TERMINAL_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class Sanitize(unittest.TestCase):
    def test_every_control_character_is_replaced(self):
        for code in [*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0)]:
            with self.subTest(code=hex(code)):
                self.assertEqual(sanitize(f"a{chr(code)}b"), f"a{REPLACEMENT}b")

    def test_escape_sequences_lose_their_escape(self):
        for attack in ("\x1b[2J", "\x1b]0;title\x07", "\x1b]52;c;cGF3bmVk\x07", "\x9b31m", "\x1bP+q\x1b\\"):
            with self.subTest(attack=attack):
                self.assertIsNone(TERMINAL_CONTROL.search(sanitize(attack)), repr(sanitize(attack)))

    def test_line_breaks_and_bidirectional_overrides(self):
        for char in ("\r", "\n", "\u2028", "\u2029", "\u202e", "\u2066", "\u200f", "\u061c"):
            with self.subTest(char=hex(ord(char))):
                self.assertEqual(sanitize(f"x{char}y"), f"x{REPLACEMENT}y")

    def test_lone_surrogates(self):
        self.assertEqual(sanitize("a\ud800b"), f"a{REPLACEMENT}b")

    def test_tab_becomes_a_space(self):
        self.assertEqual(sanitize("a\tb"), "a b")

    def test_ordinary_text_is_untouched(self):
        text = "Grüße, 你好, مرحبا, 🙂👩‍💻, e\u0301, « quotes », ½ ∑"
        self.assertEqual(sanitize(text), text)

    def test_widths(self):
        self.assertEqual([char_width(c) for c in ("a", "你", "\u0301", "é")], [1, 2, 0, 1])


class Editor(unittest.TestCase):
    def typed(self, *chunks):
        editor = LineEditor()
        events = []
        for chunk in chunks:
            events += editor.feed(chunk if isinstance(chunk, bytes) else chunk.encode())
        return events, "".join(editor.text)

    def test_enter_gives_the_line(self):
        self.assertEqual(self.typed("hello\r"), ([("line", "hello")], ""))
        self.assertEqual(self.typed("a\rb\n"), ([("line", "a"), ("line", "b")], ""))

    def test_arrow_and_function_keys_are_swallowed(self):
        for key in ("\x1b[A", "\x1b[D", "\x1bOP", "\x1b[15~", "\x1b[1;5C", "\x1bx"):
            with self.subTest(key=key):
                self.assertEqual(self.typed(f"ab{key}cd\r"), ([("line", "abcd")], ""))

    def test_an_escape_sequence_split_over_reads(self):
        self.assertEqual(self.typed("a\x1b", "[", "1;5", "Cb\r"), ([("line", "ab")], ""))

    def test_utf8_split_over_reads(self):
        data = "é🙂".encode()
        self.assertEqual(self.typed(*[data[i:i + 1] for i in range(len(data))], b"\r"), ([("line", "é🙂")], ""))

    def test_editing_keys(self):
        self.assertEqual(self.typed("abc\x7f\x7fd\r"), ([("line", "ad")], ""))
        self.assertEqual(self.typed("one two  \x17x\r"), ([("line", "one x")], ""))
        self.assertEqual(self.typed("junk\x15ok\r"), ([("line", "ok")], ""))

    def test_control_characters_are_not_typed(self):
        self.assertEqual(self.typed("a\x07\x00\x01b\x9bc\tz\r"), ([("line", "abc z")], ""))

    def test_ctrl_d_ends_only_an_empty_line(self):
        self.assertEqual(self.typed("ab\x04"), ([], "ab"))
        self.assertEqual(self.typed("\x04"), ([("eof",)], ""))

    def test_a_long_input_shows_its_end(self):
        editor = LineEditor()
        editor.feed(("x" * 100 + "你好").encode())
        self.assertEqual(editor.visible(10), "xxxxxx你好")
        self.assertEqual(editor.visible(5), "x你好")


class Piped(unittest.TestCase):
    """Standard input and output that are not a terminal: plain lines."""

    def setUp(self):
        self.read_end, self.write_end = os.pipe()
        self.addCleanup(os.close, self.read_end)
        self.addCleanup(os.close, self.write_end)
        self.term = Terminal(self.read_end, self.write_end, "utf-8")

    def test_lines_and_the_last_unfinished_one(self):
        self.assertFalse(self.term.interactive)
        self.assertEqual(self.term.read(b"one\r\ntw"), [("line", "one")])
        self.assertEqual(self.term.read(b"o\nthree"), [("line", "two")])
        self.assertEqual(self.term.read(b""), [("line", "three"), ("eof",)])

    def test_output_is_sanitised_and_only_questions_are_prompted(self):
        self.term.set_prompt("Choose a username: ", question=True)
        self.term.set_prompt("> ")
        self.term.show("peer: \x1b[2Jhi")
        self.assertEqual(os.read(self.read_end, 1000).decode(), f"Choose a username: \npeer: {REPLACEMENT}[2Jhi\n")


if __name__ == "__main__":
    unittest.main()
