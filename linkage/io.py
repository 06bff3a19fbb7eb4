"""Reading and writing Parquet or CSV by extension, every column as string; and owner-only files and folders.

The linkage state, the prepared register and the links hold PII, so whatever writes them makes its folders
0700 and its files 0600 itself: a folder's mode from mkdir and a file's from open are masked by the process
umask (often 022, which leaves them world-readable), and DuckDB, pyarrow and pandas create files with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

OWNER_DIR = 0o700
OWNER_FILE = 0o600


def read_table(path: str | Path) -> pd.DataFrame:
    p = Path(path)
    if p.suffix.lower() == ".parquet" or p.is_dir():
        df = pd.read_parquet(p)
        return df.astype(object).where(df.notna(), None)
    return pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Owner-only (0600): what linkage writes out (links, review sheets) names people."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    private_file(p)
    if p.suffix.lower() == ".parquet":
        df.to_parquet(p, index=False)
    else:
        df.to_csv(p, index=False)


def private_dir(path: str | Path, root: str | Path | None = None) -> Path:
    """Create `path` and its missing parents up to `root` (default: `path` alone) as 0700 folders; the folders
    above `root` are ordinary. Created with mode 0700 (the umask can only narrow it, so a concurrent check never
    sees it open) and then chmod-ed, in case the umask also took owner bits. Existing folders are left as they
    are: a loose one is for the zone check to refuse, not to mend silently."""
    path = Path(path)
    top = Path(root) if root is not None else path
    top.parent.mkdir(parents=True, exist_ok=True)
    below = path.relative_to(top).parts
    for folder in [top.joinpath(*below[:i]) for i in range(len(below) + 1)]:
        try:
            os.mkdir(folder, OWNER_DIR)
        except FileExistsError:
            continue
        os.chmod(folder, OWNER_DIR)
    return path


def private_file(path: str | Path) -> Path:
    """Create (or truncate) `path` as an empty 0600 file for a writer that opens it by name afterwards (pyarrow
    and pandas truncate an existing file, keeping its mode), so the file is never readable by others."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_FILE)
    try:
        os.fchmod(fd, OWNER_FILE)
    finally:
        os.close(fd)
    return Path(path)


def make_private(path: str | Path) -> Path:
    """chmod 0600 a file a writer created with the umask (DuckDB's COPY), before it is renamed into place."""
    os.chmod(path, OWNER_FILE)
    return Path(path)


def write_private_text(path: str | Path, text: str) -> None:
    """Write a small text file atomically (temp file, then rename), 0600 from its creation."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    private_file(tmp)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
