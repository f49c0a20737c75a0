"""Every setting of the server reaches it through both Compose files.

The names come from the server itself: each option of `cturn-server --help`
is read from CTURN_<NAME>, and the help names CTURN_REDIS_PASSWORD. The
Compose files are read as YAML (anchors and merge keys resolved, as Compose
does): each server service's `environment` must hold every one of them, and
nothing the server does not know (a misspelt variable would be ignored).
No Docker needed; .ci/docker-test checks that Compose itself accepts the
files and refuses the cluster without its passwords.
"""

import os
import re
import subprocess
import unittest

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ACTIONS = {"check", "print-config", "help", "version"}


def server_variables():
    binary = os.environ["CTURN_SERVER_BINARY"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTURN_")}
    text = subprocess.run([binary, "--help"], env=env, capture_output=True, text=True,
                          check=True, timeout=30).stdout
    flags = set(re.findall(r"^\s+--([a-z0-9-]+)", text, re.MULTILINE)) - ACTIONS
    names = {"CTURN_" + flag.upper().replace("-", "_") for flag in flags}
    names |= set(re.findall(r"\bCTURN_[A-Z0-9_]+", text)) - {"CTURN_NAME"}
    return names


def environments(compose_file, services):
    with open(os.path.join(REPO, "docker", compose_file)) as file:
        document = yaml.safe_load(file)
    found = {}
    for service in services:
        environment = document["services"][service].get("environment") or {}
        if isinstance(environment, list):  # the KEY=VALUE form
            environment = dict(item.split("=", 1) for item in environment)
        found[service] = set(environment)
    return found


class ComposeSettings(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.variables = server_variables()

    def test_help_names_the_settings(self):
        # The parse above must find what it looks for, or the checks below
        # would pass on nothing.
        for name in ("CTURN_PORT", "CTURN_RATE_LIMIT", "CTURN_MAX_CONNECTIONS_PER_SOURCE",
                     "CTURN_REDIS_PASSWORD", "CTURN_REDIS_USER", "CTURN_LOG_LEVEL"):
            self.assertIn(name, self.variables)
        self.assertNotIn("CTURN_HELP", self.variables)
        self.assertNotIn("CTURN_CHECK", self.variables)

    def check(self, compose_file, services):
        for service, keys in environments(compose_file, services).items():
            with self.subTest(file=compose_file, service=service):
                self.assertEqual(sorted(self.variables - keys), [],
                                 f"{compose_file}: {service} does not pass these on")
                unknown = {k for k in keys if k.startswith("CTURN_")} - self.variables
                self.assertEqual(sorted(unknown), [],
                                 f"{compose_file}: {service} passes what the server does not know")

    def test_single_server(self):
        self.check("compose.yaml", ["cturn"])

    def test_cluster_nodes(self):
        self.check("compose.cluster.yaml", ["cturn1", "cturn2", "cturn3"])


if __name__ == "__main__":
    unittest.main()
