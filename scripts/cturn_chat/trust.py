"""Trust on first use: the key fingerprint first seen for each name.

client.js encrypts for whatever key the server hands it, so a server (or
whoever runs it) can hand out its own key and read along. We remember the
fingerprint of the first key each name presented on a server, and from then
on a different key for that name is a warning and is not used until the
user accepts it (/trust NAME).

Names are only unique on one server, so the store is keyed by server
(`host:port` as given) and then by name. It is JSON in
$XDG_CONFIG_HOME/cturn/known_keys.json (default ~/.config/cturn/), mode 0600
in a directory of mode 0700, rewritten atomically."""

import json
import os
import tempfile

NEW, KNOWN, CHANGED = "new", "known", "changed"


class TrustStoreError(Exception):
    pass


def default_path():
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "cturn", "known_keys.json")


class TrustStore:
    def __init__(self, path, server):
        self.path = path
        self.server = server
        self._all = self._load()

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # Starting afresh would forget every key and overwrite the file.
            raise TrustStoreError(f"cannot read {self.path} ({exc}); repair or remove it") from None
        if not (isinstance(data, dict) and all(isinstance(v, dict) for v in data.values())):
            raise TrustStoreError(f"{self.path} is not a known-keys file; repair or remove it")
        return data

    def known(self, name):
        """The fingerprint remembered for `name` on this server, or None."""
        return self._all.get(self.server, {}).get(name)

    def check(self, name, fingerprint):
        """NEW (remembered now), KNOWN or CHANGED (not remembered: see remember)."""
        known = self.known(name)
        if known is None:
            self.remember(name, fingerprint)
            return NEW
        return KNOWN if known == fingerprint else CHANGED

    def remember(self, name, fingerprint):
        self._all.setdefault(self.server, {})[name] = fingerprint
        self._save()

    def _save(self):
        directory = os.path.dirname(self.path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".known_keys.", dir=directory)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self._all, f, indent=1, sort_keys=True, ensure_ascii=False)
                f.write("\n")
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
