"""Text from the network, made harmless for a terminal.

Everything a peer or the server says (names, messages, room names, error
texts) goes through `sanitize` before it is printed: a terminal obeys escape
sequences and control characters in its output, so a peer could otherwise
recolour, retitle or clear the screen, move the cursor to forge lines, or
(with some terminals) make it answer with input of its own."""

import unicodedata

REPLACEMENT = "\ufffd"

# Each is replaced by REPLACEMENT, so that tampering shows instead of vanishing:
#   - C0 and C1 controls (category Cc): ESC, CSI (U+009B), BEL, CR, backspace...
#   - line and paragraph separators: they break a line where a peer wants it
#   - bidirectional controls: they reorder what follows on screen
#   - surrogates: not characters; only a broken decoder produces them
_UNSAFE = [
    *range(0x00, 0x20), *range(0x7F, 0xA0),
    0x2028, 0x2029,
    0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
    *range(0xD800, 0xE000),
]
_TABLE = {code: REPLACEMENT for code in _UNSAFE}
_TABLE[ord("\t")] = " "  # harmless, but its width depends on the column


def sanitize(text):
    """`text` with every character a terminal would act on replaced."""
    return text.translate(_TABLE)


def char_width(ch):
    """Columns `ch` takes on a terminal (0 for combining marks, 2 for wide)."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
