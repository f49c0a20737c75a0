"""Names as shown and typed: hidden characters escaped, labels never
imitated, look-alikes found, names with spaces typed plain or quoted."""

import unittest

from cturn_chat.names import display, skeleton, split_name

# The invisible variants of `alice` a server once accepted.
HIDDEN = {
    "\u200b": "\\u200b",  # zero-width space
    "\u200d": "\\u200d",  # zero-width joiner
    "\u200c": "\\u200c",  # zero-width non-joiner
    "\u2060": "\\u2060",  # word joiner
    "\ufeff": "\\ufeff",  # BOM
    "\u034f": "\\u034f",  # combining grapheme joiner
    "\u00ad": "\\u00ad",  # soft hyphen
    "\ufe0f": "\\ufe0f",  # variation selector 16
    "\U000e0061": "\\U000e0061",  # tag character
    "\u3164": "\\u3164",  # Hangul filler
    "\u00a0": "\\u00a0",  # no-break space
    "\u3000": "\\u3000",  # ideographic space
    "\u200e": "\\u200e",  # left-to-right mark
    "\u202e": "\\u202e",  # right-to-left override
    "\u2028": "\\u2028",  # line separator
    "\x1b": "\\u001b",    # a control
}
INTERNATIONAL = ["José", "Zoë", "Дмитрий", "李小龙", "محمد", "ישראל", "Ñandú", "O'Brien", "anne-marie"]


class Display(unittest.TestCase):
    def test_hidden_characters_are_escaped_and_quoted(self):
        for hidden, escaped in HIDDEN.items():
            with self.subTest(code=hex(ord(hidden))):
                self.assertEqual(display("alice" + hidden), f'"alice{escaped}"')
                self.assertEqual(display(hidden), f'"{escaped}"')
        self.assertEqual(display("\u0301e"), '"\\u0301e"')  # a leading combining mark
        self.assertEqual(display("e\u0301"), "e\u0301")

    def test_real_names_are_shown_as_they_are(self):
        for name in INTERNATIONAL + ["alice", "bob_2"]:
            self.assertEqual(display(name), name)

    def test_names_that_could_read_as_labels_are_quoted(self):
        self.assertEqual(display("alice (private)"), '"alice (private)"')
        self.assertEqual(display("[System] bob"), '"[System] bob"')
        self.assertEqual(display("al ice"), '"al ice"')
        self.assertEqual(display('say "hi"'), '"say \\"hi\\""')
        self.assertEqual(display("back\\u200b"), '"back\\\\u200b"')  # not the escape of U+200B
        self.assertEqual(display(""), '""')


class LookAlikes(unittest.TestCase):
    def test_invisible_and_foreign_look_alikes_share_a_skeleton(self):
        for variant in ["alice" + hidden for hidden in HIDDEN if hidden != "\x1b"] + [
                "аlice", "ALICE", "a1ice", "alіce", "Alice"]:
            with self.subTest(variant=variant):
                self.assertEqual(skeleton(variant), skeleton("alice"))
        self.assertEqual(skeleton("rnallory"), skeleton("mallory"))

    def test_different_names_differ(self):
        shapes = {skeleton(name) for name in INTERNATIONAL + ["alice", "bob", "alicia"]}
        self.assertEqual(len(shapes), len(INTERNATIONAL) + 3)


class TypedNames(unittest.TestCase):
    def test_a_member_with_a_space_typed_plain(self):
        members = ["al", "al ice", "bob"]
        self.assertEqual(split_name("al ice hello there", members), ("al ice", "hello there"))
        self.assertEqual(split_name("al hello", members), ("al", "hello"))
        self.assertEqual(split_name("al ice", members), ("al ice", ""))

    def test_quoted(self):
        self.assertEqual(split_name('"al" ice hello', ["al", "al ice"]), ("al", "ice hello"))
        self.assertEqual(split_name('"x y" hi', []), ("x y", "hi"))
        self.assertEqual(split_name('"a\\"b\\\\c" hi', []), ('a"b\\c', "hi"))
        self.assertEqual(split_name('"unclosed hi', []), ('"unclosed', "hi"))

    def test_as_shown(self):
        members = ["alice\u200b", "alice"]
        self.assertEqual(split_name("alice\\u200b hi", members), ("alice\u200b", "hi"))
        self.assertEqual(split_name('"alice\\u200b" hi', members), ("alice\u200b", "hi"))
        self.assertEqual(split_name("alice hi", members), ("alice", "hi"))
        self.assertEqual(split_name('"x\\u200by" hi', []), ("x\u200by", "hi"))


if __name__ == "__main__":
    unittest.main()
