"""Where the client keeps what lasts: $XDG_CONFIG_HOME/cturn/ (by default
~/.config/cturn/), a directory of mode 0700."""

import os


def config_path(filename):
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "cturn", filename)
