"""Lines typed while the connection is down, kept (in memory only) until the
room is back, then sent as if typed then: encrypted for the keys the room has
at that moment, not the keys it had when they were typed."""

MAX_LINES = 100
MAX_BYTES = 1024 * 1024


class OfflineQueue:
    def __init__(self, max_lines=MAX_LINES, max_bytes=MAX_BYTES):
        self.max_lines, self.max_bytes = max_lines, max_bytes
        self._lines = []
        self._bytes = 0

    def __len__(self):
        return len(self._lines)

    def add(self, line):
        """Keep `line`; False (and nothing kept) when the queue is full."""
        size = len(line.encode("utf-8"))
        if len(self._lines) >= self.max_lines or self._bytes + size > self.max_bytes:
            return False
        self._lines.append(line)
        self._bytes += size
        return True

    def take_all(self):
        lines, self._lines, self._bytes = self._lines, [], 0
        return lines
