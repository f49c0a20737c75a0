"""How long to wait before the next reconnect attempt.

Exponential backoff with full jitter: the n-th wait (n = 0, 1, ...) is drawn
uniformly from [0, min(CAP, FIRST * 2**n)], so 0-0.5 s, 0-1 s, 0-2 s, ... up
to 0-30 s for ever. Full jitter rather than a fixed schedule because a
server restart drops every client at the same instant: spread over the whole
interval, they do not all knock again at the same instant either."""

import random

FIRST = 0.5
CAP = 30.0
# A connection that lasted this long was a good one: the next loss starts the
# schedule over. One that fails sooner (a server that accepts, then closes)
# keeps doubling, so a flapping server is not hammered.
STABLE = 30.0


class Backoff:
    def __init__(self, uniform=random.uniform):
        self._uniform = uniform
        self.attempt = 0

    def ceiling(self):
        return min(CAP, FIRST * 2 ** min(self.attempt, 16))

    def next_delay(self):
        """The wait before the next attempt; each call moves one step on."""
        delay = self._uniform(0.0, self.ceiling())
        self.attempt += 1
        return delay

    def connection_lasted(self, seconds):
        if seconds >= STABLE:
            self.attempt = 0
