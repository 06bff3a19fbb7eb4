"""The restricted zones: where PII lives, and the owner-only permissions that keep it there.

Restricted (PII; folders 0700, files 0600, whatever the umask):
    <lake>/raw/, <lake>/quarantine/, <lake>/_staging/   contacts as landed, rejected rows as delivered, staged days
    <identity>/ (JOINEDUP_IDENTITY)                      identity.duckdb, linkage state, prepared register, _work/
    the key file (JOINEDUP_PSEUDONYM_KEY_FILE)
The rest of the lake (`_audit/`, `linked/`), the warehouse, the analytics file and the reports are not restricted
and must hold no raw value.

The writers create what they write owner-only (linkage.io.private_dir, private_file). The pipeline also refuses
to start when a restricted folder or file is open to group or others (`check_restricted`): a loosened folder
means someone changed it, or a deployment mounted it wrongly, and a run would go on writing PII into it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from linkage.io import OWNER_DIR, OWNER_FILE, make_private, private_dir, private_file, write_private_text

__all__ = ["LAKE_RESTRICTED", "OWNER_DIR", "OWNER_FILE", "RestrictedZoneError", "check_key_file", "check_restricted",
           "make_private", "private_dir", "private_file", "restricted_identity", "write_private_text"]

LAKE_RESTRICTED = ("raw", "quarantine", "_staging")  # lake zones that hold PII as delivered
OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO
SHOWN = 5  # offending paths named in the error


class RestrictedZoneError(PermissionError):
    """A restricted folder or file is group- or other-accessible; the message names each and its mode."""


def _loose(path: Path) -> list[tuple[Path, int]]:
    """`path` and everything under it that group or others may access (symlinks are not followed)."""
    found: list[tuple[Path, int]] = []
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return found
    if stat.S_ISLNK(mode):
        return found
    if mode & OPEN_TO_OTHERS:
        found.append((path, mode))
    if stat.S_ISDIR(mode):
        try:
            entries = list(os.scandir(path))
        except FileNotFoundError:  # removed while we looked (a staging folder being cleared)
            return found
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                emode = entry.stat(follow_symlinks=False).st_mode
            except FileNotFoundError:
                continue
            if is_dir:
                found.extend(_loose(Path(entry.path)))
            elif not stat.S_ISLNK(emode) and emode & OPEN_TO_OTHERS:
                found.append((Path(entry.path), emode))
    return found


def check_restricted(*paths: Path | str, recursive: bool = True) -> None:
    """Raise RestrictedZoneError when any of `paths` (and, if `recursive`, anything under them) is open to group
    or others. Paths that do not exist yet pass: the writers will create them owner-only."""
    loose: list[tuple[Path, int]] = []
    for p in map(Path, paths):
        if recursive:
            loose.extend(_loose(p))
        else:
            try:
                mode = os.stat(p).st_mode
            except FileNotFoundError:
                continue
            if mode & OPEN_TO_OTHERS:
                loose.append((p, mode))
    if not loose:
        return
    shown = "; ".join(f"{p} is {'folder' if stat.S_ISDIR(m) else 'file'} mode {stat.S_IMODE(m):04o}"
                      for p, m in loose[:SHOWN])
    more = f" (and {len(loose) - SHOWN} more)" if len(loose) > SHOWN else ""
    raise RestrictedZoneError(
        f"restricted zone open to group or others: {shown}{more}. Restricted folders must be 0700 and files 0600 "
        f"(they hold PII); fix with `chmod -R go= {loose[0][0]}` after checking who changed it.")


def restricted_identity(identity: Path, *subdirs: str) -> Path:
    """Check the identity store, then create it and `subdirs` owner-only: what the link step calls first."""
    check_restricted(identity)
    for sub in subdirs:
        private_dir(identity / sub, root=identity)
    private_dir(identity)
    return identity


def check_key_file(path: Path) -> None:
    """The key file must be readable by its owner only."""
    check_restricted(path, recursive=False)
