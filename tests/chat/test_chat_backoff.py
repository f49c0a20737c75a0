"""The reconnect schedule and the offline queue's bounds, without sockets;
and how a connection is found lost: keepalive on the socket, a timed-out
read counted as a loss."""

import errno
import os
import socket
import unittest

from cturn_chat.__main__ import (KEEPALIVE_COUNT, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, USER_TIMEOUT_MS,
                                 Connection, connect)
from cturn_chat.backoff import CAP, STABLE, Backoff
from cturn_chat.offline_queue import MAX_BYTES, MAX_LINES, OfflineQueue


class Schedule(unittest.TestCase):
    def test_the_ceiling_doubles_from_half_a_second_to_thirty(self):
        longest = Backoff(uniform=lambda low, high: high)
        self.assertEqual([longest.next_delay() for _ in range(10)],
                         [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0])
        shortest = Backoff(uniform=lambda low, high: low)
        self.assertEqual({shortest.next_delay() for _ in range(10)}, {0.0})

    def test_full_jitter_stays_within_the_ceiling_for_ever(self):
        backoff = Backoff()
        delays = [backoff.next_delay() for _ in range(2000)]
        for attempt, delay in enumerate(delays):
            self.assertLessEqual(delay, min(CAP, 0.5 * 2 ** min(attempt, 16)))
            self.assertGreaterEqual(delay, 0.0)
        # Spread over the interval, not bunched at its top.
        late = delays[10:]
        self.assertLess(min(late), 5.0)
        self.assertGreater(max(late), 25.0)

    def test_only_a_stable_connection_starts_the_schedule_over(self):
        backoff = Backoff(uniform=lambda low, high: high)
        for _ in range(4):
            backoff.next_delay()
        backoff.connection_lasted(STABLE - 1)
        self.assertEqual(backoff.next_delay(), 8.0)
        backoff.connection_lasted(STABLE)
        self.assertEqual(backoff.next_delay(), 0.5)


class Queue(unittest.TestCase):
    def test_at_most_a_hundred_lines(self):
        queue = OfflineQueue()
        self.assertTrue(all(queue.add(f"line {i}") for i in range(MAX_LINES)))
        self.assertFalse(queue.add("one more"))
        self.assertEqual(len(queue), MAX_LINES)
        self.assertEqual(queue.take_all()[-1], f"line {MAX_LINES - 1}")
        self.assertEqual(len(queue), 0)

    def test_at_most_one_mebibyte(self):
        queue = OfflineQueue()
        line = "é" * 32768  # 64 KiB
        for _ in range(MAX_BYTES // (2 * len(line))):
            self.assertTrue(queue.add(line))
        self.assertFalse(queue.add("x"))
        queue.take_all()
        self.assertTrue(queue.add("x"))


class LostConnections(unittest.TestCase):
    def test_a_vanished_path_is_noticed_within_about_thirty_seconds(self):
        with socket.create_server(("127.0.0.1", 0)) as listener:
            sock = connect("127.0.0.1", listener.getsockname()[1])
            with sock:
                self.assertEqual(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
                options = {"TCP_KEEPIDLE": KEEPALIVE_IDLE, "TCP_KEEPINTVL": KEEPALIVE_INTERVAL,
                           "TCP_KEEPCNT": KEEPALIVE_COUNT, "TCP_USER_TIMEOUT": USER_TIMEOUT_MS}
                for option, value in options.items():
                    self.assertEqual(sock.getsockopt(socket.IPPROTO_TCP, getattr(socket, option)), value)
        self.assertLessEqual(KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT, 30)
        self.assertLessEqual(USER_TIMEOUT_MS, 30_000)

    def test_a_timed_out_or_reset_socket_is_a_lost_connection(self):
        class Failing:
            def __init__(self, error):
                self.error = error

            def recv(self, _):
                raise self.error

            send = recv

        for error in (TimeoutError(errno.ETIMEDOUT, os.strerror(errno.ETIMEDOUT)),
                      ConnectionResetError(errno.ECONNRESET, os.strerror(errno.ECONNRESET)),
                      OSError(errno.EHOSTUNREACH, os.strerror(errno.EHOSTUNREACH))):
            with self.subTest(error=error):
                conn = Connection(Failing(error))
                with self.assertRaisesRegex(EOFError, error.strerror):
                    conn.read_frames()
                conn.send({"type": "leave", "body": {}})
                with self.assertRaisesRegex(EOFError, error.strerror):
                    conn.write_some()


if __name__ == "__main__":
    unittest.main()
