"""The client's small JSON files (known keys, known servers): read whole,
written atomically, mode 0600 in a directory of mode 0700."""

import json
import os
import tempfile


def read(path, error):
    """The file's JSON, {} if it does not exist; raises `error` (an
    exception class) with a message for the user if it cannot be read:
    starting afresh would forget what it holds and overwrite it."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise error(f"cannot read {path} ({exc}); repair or remove it") from None


def write(path, data):
    """Replaces the file with `data`, so that a crash leaves the old or the new one."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    prefix = "." + os.path.splitext(os.path.basename(path))[0] + "."
    fd, temporary = tempfile.mkstemp(prefix=prefix, dir=directory)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True, ensure_ascii=False)
            f.write("\n")
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
