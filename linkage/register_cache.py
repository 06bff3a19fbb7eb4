"""The prepared register, kept between runs: a daily run should not standardise 500,000 citizens again.

Preparing a council register (standardising names, phones, postcodes; blocking keys; frequency tables) takes
about 30 s and does not change from one day to the next. It is cached in the restricted store beside the
linkage state, keyed by the register file's bytes and by the code and reference data that prepare it, so a new
register, a linkage release or a new nickname list each prepare it afresh. The cache holds PII, like the store.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from importlib import metadata
from pathlib import Path

from linkage.io import read_table
from linkage.prepare import PreparedRegister, prepare_register
from linkage.settings import LinkSettings, load_settings

CACHE_FILE = "register.prepared.pickle"
LIBRARIES = ("nicknames", "wordsegment", "phonenumbers", "jellyfish", "rapidfuzz", "pandas", "numpy", "recordlinkage")


def preparation_version() -> str:
    """Everything a prepared register depends on besides the register: this package's code and libraries."""
    h = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        h.update(source.name.encode())
        h.update(source.read_bytes())
    for lib in LIBRARIES:
        try:
            h.update(f"{lib}={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib}=absent".encode())
    return h.hexdigest()


def fingerprint(register_path: Path, max_block: int) -> str:
    h = hashlib.sha256(f"{preparation_version()}:max_block={max_block}".encode())
    with open(register_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_prepared_register(register_path: str | Path, cache_dir: str | Path,
                           settings: LinkSettings | None = None) -> PreparedRegister:
    """The register prepared for linking, from the cache when the register and the code are unchanged."""
    register_path, cache = Path(register_path), Path(cache_dir) / CACHE_FILE
    settings = settings or load_settings()
    key = fingerprint(register_path, settings.blocking.max_block)
    if cache.exists():
        try:
            with open(cache, "rb") as f:
                cached_key, reg = pickle.load(f)
        except Exception:  # written by another version of linkage (a module renamed, a class changed): stale
            cached_key = None
        if cached_key == key:
            return reg.teach_lexicon()
    reg = prepare_register(read_table(register_path), settings)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{CACHE_FILE}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump((key, reg), f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.chmod(0o600)
    os.replace(tmp, cache)
    return reg
