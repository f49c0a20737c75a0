"""The test harness itself: a server started for a test never outlives it."""

import unittest

from adversary import AdversaryTestCase
from cturn_testcase import ServerTestCase


def skipped_after_start(base):
    """A test case on `base` whose set-up skips the test once its server runs
    (as a test does that finds it cannot run on this build)."""

    class SkipsAfterStart(base):
        servers = []

        async def asyncSetUp(self):
            await super().asyncSetUp()
            self.servers.append(self.server)
            self.skipTest("skipped after the server started")

        async def test_nothing(self):
            pass

    return SkipsAfterStart


class Harness(unittest.TestCase):
    def test_a_test_skipped_in_set_up_leaves_no_server_running(self):
        for base in (ServerTestCase, AdversaryTestCase):
            with self.subTest(base=base.__name__):
                case = skipped_after_start(base)
                result = unittest.TestResult()
                unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
                self.assertEqual(len(result.skipped), 1, result.errors)
                self.assertEqual(len(case.servers), 1)
                server = case.servers[0]
                try:
                    self.assertIsNotNone(server.returncode, "the server outlived its skipped test")
                finally:
                    server.kill()


if __name__ == "__main__":
    unittest.main()
