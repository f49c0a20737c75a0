"""The user's side: a one-line editor on a terminal, or plain lines on a pipe.

On a terminal the input is read in cbreak mode (no echo, no line
discipline) and edited here, so that a message arriving while the user types
is printed above the input line instead of through it, and so that a line
is not cut at the 4 KiB the kernel's canonical mode allows. The input line
never wraps: when it is wider than the terminal, its end is shown. Ctrl-C
still interrupts (ISIG stays on)."""

import codecs
import os
import shutil
import termios
import tty

from .sanitize import char_width, sanitize

CLEAR_LINE = "\r\x1b[K"
# Keys the editor acts on; other control characters are dropped.
ENTER = ("\r", "\n")
BACKSPACE = ("\x7f", "\x08")
KILL_LINE = "\x15"   # Ctrl-U
KILL_WORD = "\x17"   # Ctrl-W
END_OF_INPUT = "\x04"  # Ctrl-D
ESC = "\x1b"


class LineEditor:
    """Turns typed bytes into lines. Escape sequences (arrow keys, function
    keys) are swallowed whole, so that none ends up in a message."""

    def __init__(self):
        self.text = []
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._escape = None  # None, or the part of an escape sequence read so far

    def feed(self, data):
        """Events for `data`: ("line", text) for each Enter, ("eof",) for
        Ctrl-D on an empty line."""
        events = []
        for ch in self._decoder.decode(data):
            if self._escape is not None:
                self._escape += ch
                if _escape_done(self._escape):
                    self._escape = None
            elif ch == ESC:
                self._escape = ""
            elif ch in ENTER:
                events.append(("line", "".join(self.text)))
                self.text = []
            elif ch in BACKSPACE:
                if self.text:
                    self.text.pop()
            elif ch == KILL_LINE:
                self.text = []
            elif ch == KILL_WORD:
                while self.text and self.text[-1] == " ":
                    self.text.pop()
                while self.text and self.text[-1] != " ":
                    self.text.pop()
            elif ch == END_OF_INPUT:
                if not self.text:
                    events.append(("eof",))
            elif ch == "\t":
                self.text.append(" ")
            elif ord(ch) >= 0x20 and not 0x7F <= ord(ch) < 0xA0:
                self.text.append(ch)
        return events

    def visible(self, columns):
        """The end of the input that fits in `columns`."""
        shown, used = [], 0
        for ch in reversed(self.text):
            used += char_width(ch)
            if used > columns:
                break
            shown.append(ch)
        return "".join(reversed(shown))


def _escape_done(sequence):
    """Whether `sequence` (what followed ESC) is a whole escape sequence:
    CSI (ESC [ params final), SS3 (ESC O x), or Alt+key (ESC x)."""
    if sequence[0] == "[":
        return len(sequence) > 1 and 0x40 <= ord(sequence[-1]) <= 0x7E
    if sequence[0] == "O":
        return len(sequence) == 2
    return True


class Terminal:
    """Output lines above the input line on a terminal; plain lines otherwise."""

    def __init__(self, in_fd, out_fd, encoding):
        self.in_fd, self.out_fd, self.encoding = in_fd, out_fd, encoding
        self.interactive = os.isatty(in_fd) and os.isatty(out_fd)
        self.prompt = ""
        self._editor = LineEditor()
        self._pending = b""  # piped input: an unfinished line
        self._saved = None

    def __enter__(self):
        if self.interactive:
            self._saved = termios.tcgetattr(self.in_fd)
            tty.setcbreak(self.in_fd)
        return self

    def __exit__(self, *exc):
        if self._saved is not None:
            self._write(CLEAR_LINE)
            termios.tcsetattr(self.in_fd, termios.TCSADRAIN, self._saved)
        return False

    def _write(self, text):
        data = text.encode(self.encoding, "replace")
        while data:
            data = data[os.write(self.out_fd, data):]

    def show(self, line):
        """Print a whole line. The session sanitises what it got from the
        network; doing it again here (it changes nothing the second time)
        keeps a forgotten call from ever reaching the screen."""
        line = sanitize(line)
        if self.interactive:
            self._write(CLEAR_LINE + line + "\n" + self._input_line())
        else:
            self._write(line + "\n")

    def set_prompt(self, prompt, question=False):
        """Show `prompt` before the input; on a pipe only a `question` is
        printed (as a line), not the bare prompt."""
        if prompt == self.prompt:
            return
        self.prompt = prompt
        if self.interactive:
            self._write(CLEAR_LINE + self._input_line())
        elif question:
            self._write(prompt + "\n")

    def _input_line(self):
        columns = shutil.get_terminal_size((80, 24)).columns
        room = max(columns - sum(map(char_width, self.prompt)) - 1, 1)
        return self.prompt + self._editor.visible(room)

    def read(self, data):
        """Events (see LineEditor.feed) for `data` read from the input; b""
        is the end of the input."""
        if not data:
            last, self._pending = self._pending, b""
            return ([("line", last.decode("utf-8", "replace"))] if last else []) + [("eof",)]
        if self.interactive:
            events = self._editor.feed(data)
            self._write(CLEAR_LINE + self._input_line())
            return events
        *lines, self._pending = (self._pending + data).split(b"\n")
        return [("line", line.decode("utf-8", "replace").rstrip("\r")) for line in lines]
