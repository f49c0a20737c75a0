"""Runs the cturn-server binary for a test: start on a free port, keep its log, stop it."""

import functools
import os
import re
import signal
import subprocess
import sys
import threading
import time

import tls_material
from cturn_client import TIMEOUT_SCALE

LISTENING = re.compile(r"\blistening address=\S+ port=(\d+)")
# Sanitizer reports do not always change the exit code (e.g. UBSan without halt_on_error).
SANITIZER_REPORT = re.compile(r"Sanitizer|runtime error:")
START_TIMEOUT = 20.0 * TIMEOUT_SCALE
STOP_TIMEOUT = 20.0 * TIMEOUT_SCALE
# The server logs one of these for every SIGTERM/SIGINT it handles.
SIGNAL_NOTICED = re.compile(r"\b(shutdown signal=|signal-ignored signal=)")
# GCC 12's TSan runtime defers an asynchronous signal until the receiving
# thread next enters an intercepted call, and now and then never delivers it:
# about 1 run in 500 of a 20-line Asio program (a signal_set, four threads
# running the io_context) hangs on SIGTERM under TSan and exits on a second
# SIGTERM, while the same program built without it never hangs in 2 000 runs.
# For TSan builds only, a signal the server has not logged after this long is
# sent once more; the resend is noted in the log. Other builds must handle
# the first signal.
SIGNAL_RESEND_AFTER = 3.0 * TIMEOUT_SCALE
MIB = 1024 * 1024


@functools.lru_cache(maxsize=None)
def sanitizer_of(binary):
    """'asan', 'tsan' or None for the server binary at `binary`."""
    forced = os.environ.get("CTURN_TEST_SANITIZER")
    if forced is not None:
        forced = forced.strip().lower()
        return None if forced in ("", "0", "none", "no", "off") else forced
    markers = {b"__asan_init": "asan", b"__tsan_init": "tsan"}
    tail = b""
    try:
        with open(binary, "rb") as image:
            while True:
                chunk = image.read(4 * MIB)
                if not chunk:
                    return None
                data = tail + chunk
                for marker, kind in markers.items():
                    if marker in data:
                        return kind
                tail = data[-32:]
    except OSError:
        return None



def all_threads_stopped(pid):
    """Whether every thread of `pid` is in state T (stopped) or t (traced)."""
    task = f"/proc/{pid}/task"
    for tid in os.listdir(task):
        try:
            with open(f"{task}/{tid}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        if state not in ("T", "t"):
            return False
    return True

class ServerProcess:
    """One server process. `flags` are appended to the fixed bind/port/threads
    flags; `env` adds environment variables (the caller's CTURN_* are dropped).
    With CTURN_TEST_TLS=1 it also serves TLS with the test certificate."""

    host = "127.0.0.1"

    def __init__(self, flags=(), binary=None, threads=None, env=None, hold_log=False):
        self.binary = binary or os.environ.get("CTURN_SERVER_BINARY")
        if not self.binary:
            raise RuntimeError("set CTURN_SERVER_BINARY to the cturn-server binary")
        self.threads = threads or os.environ.get("CTURN_TEST_SERVER_THREADS", "2")
        tls = tls_material.server_flags() if tls_material.TLS_MODE else ()
        # At debug unless the test picks a level: a client that registers and
        # quits at once looks like a health check, whose lines are at debug
        # (test_health_check_logs), and tests wait for every connection's
        # `connect` and `disconnect` (ServerTestCase.disconnect_handled).
        picked = any(str(flag).startswith("--log-level") for flag in flags)
        level = () if picked else ("--log-level", "debug")
        self.args = [self.binary, "--bind", self.host, "--port", "0",
                     "--threads", str(self.threads), *tls, *level, *flags]
        self.extra_env = dict(env or {})
        self.port = None
        self.lines = []  # every log line so far (stdout and stderr merged)
        self.signalled = False  # True once we sent SIGTERM/SIGINT ourselves
        self.signals_noticed = 0  # log lines that show the server handled a signal
        self._reader_done = False
        # With hold_log, nothing reads the log after the listening line until
        # release_log(): the server's stderr pipe fills up, as it does under a
        # stalled log collector.
        self._log_released = threading.Event()
        if not hold_log:
            self._log_released.set()
        self._changed = threading.Condition()
        self._proc = None
        self._reader = None

    def start(self):
        # Strip CTURN_* so a developer's environment cannot change the server's defaults.
        env = {k: v for k, v in os.environ.items() if not k.startswith("CTURN_")}
        env.update(self.extra_env)
        self._proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, env=env)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        with self._changed:
            ready = self._changed.wait_for(lambda: self.port is not None or self._reader_done,
                                           START_TIMEOUT)
        if self.port is None:
            self._proc.kill()
            self._proc.wait()
            why = "exited" if ready else f"printed no listening line within {START_TIMEOUT:.0f} s"
            raise AssertionError(f"server {why} (exit code {self._proc.returncode})\n{self.log()}")
        return self

    def _drain(self):
        for raw in self._proc.stdout:
            line = raw.decode("utf-8", "backslashreplace").rstrip("\n")
            with self._changed:
                self.lines.append(line)
                match = LISTENING.search(line)
                if match and self.port is None:
                    self.port = int(match.group(1))
                if SIGNAL_NOTICED.search(line):
                    self.signals_noticed += 1
                self._changed.notify_all()
            if self.port is not None:
                self._log_released.wait()
        with self._changed:
            self._reader_done = True
            self._changed.notify_all()

    def release_log(self):
        """Read the log again (see hold_log)."""
        self._log_released.set()

    def wait_for_log(self, pattern, timeout=5.0 * TIMEOUT_SCALE, start=0):
        """Wait until a log line (from index `start` on) matches `pattern`; return it."""
        regex = re.compile(pattern)

        def find():
            return next((l for l in self.lines[start:] if regex.search(l)), None)

        with self._changed:
            self._changed.wait_for(lambda: find() is not None or self._reader_done, timeout)
            line = find()
        if line is None:
            raise AssertionError(f"no log line matching {pattern!r}\n{self.log()}")
        return line

    def log(self, last=200):
        with self._changed:
            lines = self.lines[-last:]
        return "---- server log ----\n" + "\n".join(lines) + "\n---- end of server log ----"

    def sanitizer_reports(self):
        with self._changed:
            return [l for l in self.lines if SANITIZER_REPORT.search(l)]

    @property
    def returncode(self):
        return self._proc.poll()

    def assert_alive(self):
        """Fail loudly if the server exited without being told to (crash, sanitizer abort)."""
        code = self._proc.poll()
        if code is not None and not self.signalled:
            raise AssertionError(f"server died unexpectedly with exit code {code}\n{self.log()}")

    def pause(self):
        """SIGSTOP: the process stays, silent, as a node in a long GC pause or
        a stopped VM would (resume() goes on). Returns once every thread is
        stopped: the signal is delivered asynchronously, and a line sent
        before that would be served by a node that was still running."""
        os.kill(self._proc.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while not all_threads_stopped(self._proc.pid):
            if time.monotonic() > deadline:
                raise AssertionError(f"pid {self._proc.pid} did not stop within 5 s")
            time.sleep(0.001)

    def resume(self):
        os.kill(self._proc.pid, signal.SIGCONT)

    def send_signal(self, sig=signal.SIGTERM):
        if self._proc.poll() is not None:
            return
        self.signalled = True
        with self._changed:
            noticed_before = self.signals_noticed
        self._proc.send_signal(sig)
        if sig in (signal.SIGTERM, signal.SIGINT) and sanitizer_of(self.binary) == "tsan":
            threading.Thread(target=self._resend_if_lost, args=(sig, noticed_before),
                             daemon=True).start()

    def send_reload(self):
        """SIGHUP, which the server must survive (so not `signalled`)."""
        self._proc.send_signal(signal.SIGHUP)

    def _resend_if_lost(self, sig, noticed_before):
        """See SIGNAL_RESEND_AFTER."""
        with self._changed:
            noticed = self._changed.wait_for(
                lambda: self.signals_noticed > noticed_before or self._reader_done,
                SIGNAL_RESEND_AFTER)
            if noticed or self._proc.poll() is not None:
                return
            self.lines.append(f"[test harness] signal {int(sig)} not logged after "
                              f"{SIGNAL_RESEND_AFTER:.0f} s: sending it again (TSan build)")
        self._proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Wait for exit and the end of the log; return the exit code (fails on timeout)."""
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            raise AssertionError(f"server did not exit within {timeout:.0f} s\n{self.log()}")
        self._reader.join(timeout)
        self._proc.stdout.close()
        return code

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Signal the server (unless it already exited) and assert a clean exit 0."""
        self.assert_alive()
        self.send_signal(sig)
        code = self.wait(timeout)
        if code != 0:
            raise AssertionError(f"server exited with code {code}, expected 0\n{self.log()}")
        reports = self.sanitizer_reports()
        if reports:
            raise AssertionError("sanitizer reports in the server log:\n" + "\n".join(reports)
                                 + "\n" + self.log())

    def kill(self):
        """Last-resort cleanup; never raises."""
        self._log_released.set()
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._reader:
            self._reader.join(5)
        if self._proc:
            self._proc.stdout.close()


def print_log(server, file=sys.stderr):
    print(server.log(), file=file, flush=True)
