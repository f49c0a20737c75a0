"""Names as the user sees and types them.

A name from the network is shown so that what is on the screen is all there
is: every character a reader cannot see or that changes the order of what
follows (controls, format characters such as U+200B or U+202E, default
ignorables such as variation selectors and Hangul fillers, spaces other than
U+0020, separators, private-use, unassigned and surrogate code points, and a
combining mark at the start) is written as an escape, `alice\\u200b`; a
backslash is written `\\\\`. A name with a space, a quote, a bracket, a
parenthesis or a colon, or with an escape, is shown between double quotes,
so that `alice (private)` or `[System] bob` never reads as the client's own
labels.

The user types a name in a command as it is shown: quoted or not, escaped
or raw. Without quotes, the longest room member whose name (raw or as shown)
begins the argument is taken, so `/msg al ice hello` reaches `al ice`.

`skeleton` is a rough look-alike key, for warnings only (the server refuses
look-alikes itself): NFKC, case folding, then hidden characters, spaces and
marks removed, then a small table of Latin look-alikes from Cyrillic, Greek and
digits, and `rn` as `m`, `vv` as `w`. It covers what is typed to imitate a
Latin name; it is not Unicode's full confusables table."""

import unicodedata

_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}
_QUOTE_IF = set(' "[]():')

_LOOKALIKES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ı": "i",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    # digits and ASCII
    "0": "o", "1": "l", "3": "e", "5": "s", "|": "l", "i": "l",
})


def is_ignorable(ch):
    code = ord(ch)
    return any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def _hidden(ch, first):
    category = unicodedata.category(ch)
    return (category in _HIDDEN_CATEGORIES or is_ignorable(ch)
            or (category == "Zs" and ch != " ")
            or (first and category.startswith("M")))


def escape(name, backslash=True):
    """`name` with every hidden character as \\uXXXX (\\UXXXXXXXX above the
    BMP), and a backslash doubled unless `backslash` is False."""
    out = []
    for index, ch in enumerate(name):
        if ch == "\\" and backslash:
            out.append("\\\\")
        elif _hidden(ch, index == 0):
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


def reveal(text):
    """A server's text (which may hold names) with its hidden characters
    escaped, so that none reaches the screen raw."""
    return escape(text, backslash=False)


def display(name):
    """`name` as shown on screen: escaped, and quoted when it could read as
    something else."""
    escaped = escape(name)
    if not name or escaped != name or _QUOTE_IF & set(name):
        return '"' + escaped.replace('"', '\\"') + '"'
    return name


def skeleton(name):
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if ch != " " and not _hidden(ch, False) and not unicodedata.category(ch).startswith("M"))
    # Twice: a foreign letter becomes its Latin look-alike, which may have one too (і, i, l).
    text = text.translate(_LOOKALIKES).translate(_LOOKALIKES)
    return text.replace("rn", "m").replace("vv", "w")


def _unquote(argument):
    """(name, rest) from an argument that starts with a double quote, with
    \\" \\\\ \\uXXXX \\UXXXXXXXX escapes; None when the quote never closes."""
    out, index = [], 1
    while index < len(argument):
        ch = argument[index]
        if ch == '"':
            return "".join(out), argument[index + 1:].lstrip(" ")
        if ch == "\\" and index + 1 < len(argument):
            nxt = argument[index + 1]
            width = {"u": 4, "U": 8}.get(nxt)
            digits = argument[index + 2:index + 2 + width] if width else ""
            if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                code = int(digits, 16)
                if code <= 0x10FFFF:
                    out.append(chr(code))
                    index += 2 + width
                    continue
            out.append(nxt)
            index += 2
            continue
        out.append(ch)
        index += 1
    return None


def split_name(argument, members):
    """(name, rest of the argument) for a command that starts with a name.
    A member written as it is shown or raw wins (the longest); then a quoted
    name; then the first word."""
    best = None
    for member in members:
        for form in (member, escape(member), display(member)):
            if form and (argument == form or argument.startswith(form + " ")):
                if best is None or len(form) > len(best[1]):
                    best = (member, form)
    if best is not None:
        return best[0], argument[len(best[1]):].lstrip(" ")
    if argument.startswith('"'):
        parsed = _unquote(argument)
        if parsed is not None:
            return parsed
    name, _, rest = argument.partition(" ")
    return name, rest.lstrip(" ")
