"""scripts/chat picks its interpreter: $PYTHON, then python3 on the PATH, then
Debian's /usr/bin/python3, the first of them at least 3.9 with `cryptography`."""

import os
import pathlib
import stat
import subprocess
import sys
import tempfile
import unittest

CHAT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "chat"


def have_cryptography(python):
    return subprocess.run([python, "-c", "import cryptography"], capture_output=True).returncode == 0


# An interpreter that can run the client, found the way the launcher would.
GOOD = next((p for p in (sys.executable, "/usr/bin/python3") if have_cryptography(p)), None)


@unittest.skipIf(GOOD is None, "no Python with cryptography here")
class Launcher(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        self.bin = pathlib.Path(self.directory.name)

    def script(self, name, body):
        path = self.bin / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return path

    def run_chat(self, env):
        environment = {k: v for k, v in os.environ.items() if k != "PYTHON"}
        environment.update(env)
        return subprocess.run([str(CHAT), "--help"], capture_output=True, text=True, timeout=60,
                              env=environment)

    def test_python_from_the_environment_is_used(self):
        marker = self.bin / "used"
        wrapper = self.script("my-python", f'touch "{marker}"\nexec "{GOOD}" "$@"\n')
        result = self.run_chat({"PYTHON": str(wrapper)})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("usage:", result.stdout)
        self.assertTrue(marker.exists(), "scripts/chat did not run $PYTHON")

    def test_an_unfit_python3_on_the_path_is_passed_over(self):
        # A python3 without cryptography (or too old) answers the check with a failure.
        self.script("python3", "exit 1\n")
        marker = self.bin / "used"
        wrapper = self.script("good-python", f'touch "{marker}"\nexec "{GOOD}" "$@"\n')
        result = self.run_chat({"PATH": f"{self.bin}:{os.environ['PATH']}", "PYTHON": str(wrapper)})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(marker.exists())
        if have_cryptography("/usr/bin/python3"):
            result = self.run_chat({"PATH": f"{self.bin}:{os.environ['PATH']}"})
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("usage:", result.stdout)


if __name__ == "__main__":
    unittest.main()
