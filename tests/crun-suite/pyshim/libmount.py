"""Minimal stand-in for util-linux's Python binding ``libmount`` (pylibmount).

Debian does not package pylibmount, and crun's tests/test_mounts.py prints
"1..0" (skipping every mount test) when ``import libmount`` fails.  That file
only needs ``libmount.Table(path).find_target(target)`` returning an object
with ``vfs_options`` (per-mount options) and ``fs_options`` (superblock
options), so this module implements exactly that by parsing a
/proc/self/mountinfo dump.  run.sh puts it on PYTHONPATH only when the real
binding is not importable.
"""

import re

__all__ = ["Table", "Fs"]


def _unescape(s):
    # mountinfo escapes space, tab, newline and backslash as \ooo (octal)
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


class Fs:
    def __init__(self, line):
        fields = line.split()
        sep = fields.index("-")
        self.id = int(fields[0])
        self.parent = int(fields[1])
        self.devno = fields[2]
        self.root = _unescape(fields[3])
        self.target = _unescape(fields[4])
        self.vfs_options = fields[5]
        self.optional_fields = " ".join(fields[6:sep])
        self.fstype = fields[sep + 1]
        self.source = _unescape(fields[sep + 2]) if len(fields) > sep + 2 else None
        self.fs_options = fields[sep + 3] if len(fields) > sep + 3 else ""
        self.options = self.vfs_options + "," + self.fs_options


class Table:
    def __init__(self, path=None):
        self.fs = []
        if path is not None:
            self.parse_file(path)

    def parse_file(self, path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line or " - " not in line:
                    continue
                try:
                    self.fs.append(Fs(line))
                except (ValueError, IndexError):
                    continue
        return self

    def find_target(self, path, direction=None):
        # libmount searches backward by default: the last (top-most) mount wins.
        path = path.rstrip("/") or "/"
        for fs in reversed(self.fs):
            if fs.target == path:
                return fs
        return None
