"""What the landing zone holds besides the files the channels expect, so that nothing delivered goes unnamed.

A day folder is listed entry by entry, not globbed: an entry is read only if it is a regular file whose name
matches the channel's pattern exactly. Everything else in it is `unexpected` and named in the day's audit with
why: a folder (even one named like a file), a symbolic link (never followed: a link can point anywhere, even
outside the landing zone, and a dangling one has nothing to read), a special file, a name that differs from the
pattern (only in letter case, or otherwise), a name that is not valid UTF-8. Above the day folders, a channel's
folder holding something that is not one of its day folders, and an entry at the landing zone's root that is no
configured channel's folder (a channel missing from channels.yml), are named in the landing audit.

Listing is pure classification (`classify_day`, `strays_in_channel`, `strays_at_root`) over entries that
`list_folder` reads: os.scandir for a local landing zone (exact types, fast), fsspec for any other.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from datetime import date, datetime

import fsspec
from fsspec.implementations.local import LocalFileSystem

from joinedup.channels import Channel

DEFAULT_DAY_FOLDER = "{day:%Y-%m-%d}"


@dataclass(frozen=True)
class Entry:
    name: str  # as listed (a local name that is not UTF-8 carries surrogate escapes)
    path: str  # path or URL to read it
    kind: str  # file | dir | link | other | vanished
    size: int | None = None
    link_target_exists: bool = False


@dataclass(frozen=True)
class Unexpected:
    """An entry that is not read, and why: it becomes an audit line (status `unexpected`)."""

    file: str  # relative to the exports root, printable
    kind: str
    reason: str
    size: int | None = None


def printable(name: str) -> str:
    """A listed name as the audit can carry it: bytes that are not UTF-8 shown as \\xNN escapes."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def list_folder(url: str) -> list[Entry]:
    """The folder's entries in name order. Raises OSError when it cannot be listed."""
    fs, path = fsspec.core.url_to_fs(url)
    if isinstance(fs, LocalFileSystem):
        out = []
        with os.scandir(path) as it:
            for e in it:
                try:
                    if e.is_symlink():
                        out.append(Entry(e.name, e.path, "link", None, os.path.exists(e.path)))
                    elif e.is_dir(follow_symlinks=False):
                        out.append(Entry(e.name, e.path, "dir"))
                    elif e.is_file(follow_symlinks=False):
                        out.append(Entry(e.name, e.path, "file", e.stat(follow_symlinks=False).st_size))
                    else:
                        out.append(Entry(e.name, e.path, "other"))
                except OSError:  # gone (or renamed) between the listing and the look: not this run's to read
                    out.append(Entry(e.name, e.path, "vanished"))
        return sorted(out, key=lambda e: e.name)
    entries = []
    for info in fs.ls(path, detail=True):
        name = info["name"].rstrip("/").rsplit("/", 1)[-1]
        kind = {"file": "file", "directory": "dir"}.get(info.get("type", ""), "other")
        entries.append(Entry(name, fs.unstrip_protocol(info["name"]) if "://" in url else info["name"], kind,
                             info.get("size")))
    return sorted(entries, key=lambda e: e.name)


def _why_not(e: Entry, pattern: str) -> str | None:
    """None if the entry is a delivery file for `pattern`, else the reason it is not read."""
    name = printable(e.name)
    if name != e.name:
        return "name is not valid UTF-8: not read"
    matches = fnmatch.fnmatchcase(e.name, pattern)
    if e.kind == "link":
        return ("a symbolic link to nothing (dangling)" if not e.link_target_exists
                else "a symbolic link: links are not followed (a delivery is a regular file)")
    if e.kind == "dir":
        return ("a folder named like a delivery file: its contents are not read" if matches
                else "a folder: the contents of folders inside a day folder are not read")
    if e.kind == "vanished":
        return "gone or renamed while the folder was listed: not read in this run"
    if e.kind != "file":
        return "not a regular file (a pipe, socket or device): not read"
    if matches:
        return None
    if fnmatch.fnmatchcase(e.name.lower(), pattern.lower()):
        return f"name differs from the pattern {pattern} only in letter case: not read"
    return f"name does not match the pattern {pattern}: not read"


def classify_day(entries: list[Entry], pattern: str, rel_folder: str) -> tuple[list[Entry], list[Unexpected]]:
    """A day folder's entries -> (files to read, in name order; everything else, with why)."""
    files, unexpected = [], []
    for e in entries:
        why = _why_not(e, pattern)
        if why is None:
            files.append(e)
        else:
            unexpected.append(Unexpected(f"{rel_folder}/{printable(e.name)}", e.kind, why, e.size))
    return files, unexpected


def day_format(day_folder: str) -> str | None:
    """The strptime format of a day folder template such as `{day:%Y-%m-%d}`; None if it is not that simple."""
    m = re.fullmatch(r"\{day:([^}/]*)\}", day_folder)
    return m.group(1) if m else None


def day_of_folder(day_folder: str, name: str) -> date | None:
    """The day a folder name stands for under the template, if it is exactly that day's name."""
    fmt = day_format(day_folder)
    if fmt is None:
        return None
    try:
        day = datetime.strptime(name, fmt).date()
    except ValueError:
        return None
    return day if day_folder.format(day=day) == name else None


_STRAYS: dict[str, tuple[int, list[Unexpected]]] = {}


def strays_in_channel(ch: Channel, exports: str) -> list[Unexpected]:
    """Entries of the channel's folder that are not its day folders (a misnamed day, a file, a link to
    nothing). Cached per process while a local folder is unchanged: a year's run lists it once, not daily."""
    if day_format(ch.day_folder) is None:
        return []
    url = ch.location.format(exports=exports.rstrip("/")).rstrip("/")
    fs, path = fsspec.core.url_to_fs(url)
    local = isinstance(fs, LocalFileSystem)
    stamp = -1
    if local:
        try:
            stamp = os.stat(path).st_mtime_ns
        except OSError:
            return []
        hit = _STRAYS.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    try:
        entries = list_folder(url)
    except (FileNotFoundError, NotADirectoryError):
        return []
    rel = ch.name  # as the audit names the channel's files: <channel>/<day folder>/<file>
    out = []
    for e in entries:
        day = day_of_folder(ch.day_folder, e.name)
        if day is None:
            why = ("name is not valid UTF-8" if printable(e.name) != e.name else
                   f"not a day folder: the name does not match {ch.day_folder}")
            out.append(Unexpected(f"{rel}/{printable(e.name)}", e.kind, f"{why}; nothing in it is read", e.size))
        elif e.kind == "link" and not e.link_target_exists:
            out.append(Unexpected(f"{rel}/{e.name}", e.kind, "a day folder that is a symbolic link to nothing"))
        elif e.kind not in ("dir", "link"):
            out.append(Unexpected(f"{rel}/{e.name}", e.kind, "named like a day folder but not a folder", e.size))
    if local:
        _STRAYS[path] = (stamp, out)
    return out


def strays_at_root(channels: dict[str, Channel], exports: str, day: date) -> list[Unexpected]:
    """Entries at the landing zone's root that are no configured channel's folder, e.g. the exports of a
    channel missing from channels.yml; for such a folder, also what its folder for `day` holds."""
    root = exports.rstrip("/")
    known = {first for ch in channels.values()
             if (first := _rel_to_root(ch.location.format(exports=root).rstrip("/"), root)) is not None}
    try:
        entries = list_folder(root)
    except OSError:
        return []
    out = []
    for e in entries:
        if e.name in known:
            continue
        name = printable(e.name)
        if e.kind != "dir":
            out.append(Unexpected(name, e.kind, "not a channel's folder (channels.yml lists "
                                                f"{', '.join(sorted(known))}): not read", e.size))
            continue
        out.append(Unexpected(name, e.kind, "a folder for a channel not in channels.yml: nothing in it is read"))
        day_name = DEFAULT_DAY_FOLDER.format(day=day)
        try:
            inside = list_folder(f"{root}/{e.name}/{day_name}")
        except OSError:
            continue
        out.extend(Unexpected(f"{name}/{day_name}/{printable(f.name)}", f.kind,
                              "in the folder of a channel not in channels.yml: not read", f.size) for f in inside)
    return out


def _rel_to_root(url: str, root: str) -> str | None:
    """The first path component of `url` under `root`, or None when it lies elsewhere."""
    root = root.rstrip("/")
    if not url.startswith(root + "/"):
        return None
    rest = url[len(root) + 1:]
    return rest.split("/", 1)[0] if rest else None
