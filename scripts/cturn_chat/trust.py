"""Trust on first use: the key fingerprint first seen for each name.

client.js encrypts for whatever key the server hands it, so a server (or
whoever runs it) can hand out its own key and read along. We remember the
fingerprint of the first key each name presented on a server, and from then
on a different key for that name is a warning and is not used until the
user accepts it (/trust NAME). With the fingerprint we remember whether
that key signs what it sends (signing.py): once it has, a line said to come
from it unsigned is a forgery, even if the announcement was stripped.

Names are only unique on one server, so the store is keyed by server
(`host:port` as given) and then by name. It is JSON in
$XDG_CONFIG_HOME/cturn/known_keys.json (default ~/.config/cturn/), mode 0600
in a directory of mode 0700, rewritten atomically."""

from . import json_file
from .paths import config_path

NEW, KNOWN, CHANGED = "new", "known", "changed"


class TrustStoreError(Exception):
    pass


def default_path():
    return config_path("known_keys.json")


class TrustStore:
    def __init__(self, path, server):
        self.path = path
        self.server = server
        self._all = self._load()

    def _load(self):
        data = json_file.read(self.path, TrustStoreError)
        if not (isinstance(data, dict) and all(isinstance(v, dict) for v in data.values())):
            raise TrustStoreError(f"{self.path} is not a known-keys file; repair or remove it")
        return data

    def _entry(self, name):
        """{"fingerprint": ..., "signs": bool} or None (a bare fingerprint
        string is an entry written before keys signed)."""
        entry = self._all.get(self.server, {}).get(name)
        if isinstance(entry, str):
            return {"fingerprint": entry, "signs": False}
        return entry if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str) else None

    def known(self, name):
        """The fingerprint remembered for `name` on this server, or None."""
        entry = self._entry(name)
        return entry and entry["fingerprint"]

    def signs(self, name):
        """Whether the remembered key of `name` is known to sign."""
        entry = self._entry(name)
        return bool(entry and entry.get("signs") is True)

    def names(self):
        return list(self._all.get(self.server, {}))

    def check(self, name, fingerprint, signs=False):
        """NEW (remembered now), KNOWN or CHANGED (not remembered: see
        remember). A known key that now says it signs is remembered so."""
        known = self.known(name)
        if known is None:
            self.remember(name, fingerprint, signs)
            return NEW
        if known != fingerprint:
            return CHANGED
        if signs and not self.signs(name):
            self.remember(name, fingerprint, True)
        return KNOWN

    def remember(self, name, fingerprint, signs=False):
        self._all.setdefault(self.server, {})[name] = {"fingerprint": fingerprint, "signs": bool(signs)}
        self._save()

    def _save(self):
        json_file.write(self.path, self._all)
