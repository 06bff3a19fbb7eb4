"""The prepared register, kept between runs: a daily run should not standardise 500,000 citizens again.

Preparing a council register (standardising names, phones, postcodes; blocking keys; frequency tables) takes
about 30 s and does not change from one day to the next. It is cached in the restricted store beside the
linkage state, keyed by the register file's bytes and by the code and reference data that prepare it, so a new
register, a linkage release or a new nickname list each prepare it afresh. The cache holds PII, like the store
(folder 0700, files 0600).

The cache is data only: a folder of Arrow IPC files (LZ4-compressed: they read ~10x faster than Parquet, which
keeps the daily run's load near the old pickle's) and a small JSON manifest, read first, that holds the
fingerprint. Nothing in it is executed when it is read (an unpickled file could run code planted in it), and a
stale, partial or foreign cache is simply prepared again.

    register.prepared/manifest.json    fingerprint, format, max_block, the names of the dict entries
    register.prepared/std.arrow        the standardised register
    register.prepared/keys.arrow       its blocking keys
    register.prepared/tf.arrow         one column per term-frequency table (manifest: the keys, in order)
    register.prepared/fanout.arrow     one column per identifier fan-out array
    register.prepared/multi-<i>.arrow  the forename-variant blocking keys, one file per entry
    register.prepared/index-<i>.arrow  the blocking index (PreparedRegister.index), one file per rule's table:
                                       sorting 500,000 citizens' keys again cost a daily run ~3 s
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from linkage.blocking import KeyIndex, RegisterIndex
from linkage.io import private_dir, private_file, read_table, write_private_text
from linkage.prepare import PreparedRegister, prepare_register
from linkage.settings import LinkSettings, load_settings

CACHE_DIR = "register.prepared"
MANIFEST = "manifest.json"
FORMAT = 2  # 2: with the blocking index
OLD_PICKLE = "register.prepared.pickle"  # the former cache: never read, removed when found
NAN_PREFIX = "__nan__:"  # companion column marking the float-NaN cells of an object column (None stays None)
LIBRARIES = ("nicknames", "wordsegment", "phonenumbers", "jellyfish", "rapidfuzz", "pandas", "numpy", "recordlinkage",
             "pyarrow")


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


def _frame_to_table(df: pd.DataFrame) -> pa.Table:
    """A DataFrame as Arrow, exactly: object columns must hold text, None or NaN, and which of None and NaN a
    missing cell was is kept in a companion column (code downstream may tell them apart)."""
    if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        raise ValueError("register cache: only frames with a default RangeIndex are cached")
    extra = {}
    schema = pa.Schema.from_pandas(df, preserve_index=False)
    for col in df.columns:
        if df[col].dtype == object:
            schema = schema.set(schema.get_field_index(col), pa.field(col, pa.string()))
            nan = np.fromiter((v.__class__ is float for v in df[col]), bool, len(df))
            if nan.any():
                extra[f"{NAN_PREFIX}{col}"] = nan
    # an object column holding anything but text, None or NaN raises here, rather than coming back changed
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    for name, mask in extra.items():
        table = table.append_column(name, pa.array(mask))
    return table


def _table_to_frame(table: pa.Table) -> pd.DataFrame:
    nan_cols = [c for c in table.column_names if c.startswith(NAN_PREFIX)]
    df = table.drop_columns(nan_cols).to_pandas()
    for name in nan_cols:
        mask = table.column(name).to_numpy()
        col = name.removeprefix(NAN_PREFIX)
        values = df[col].to_numpy(dtype=object, copy=True)
        values[mask] = np.nan
        df[col] = values
    return df


def _arrays_table(arrays: dict[Any, np.ndarray]) -> pa.Table:
    return pa.table({f"c{i}": np.asarray(a) for i, a in enumerate(arrays.values())})


def _key_json(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key


def _key_from_json(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def _write(table: pa.Table, path: Path) -> None:
    feather.write_feather(table, str(private_file(path)), compression="lz4")


def _read(path: Path) -> pa.Table:
    return feather.read_table(str(path), memory_map=False)


def save_prepared(reg: PreparedRegister, folder: Path, key: str) -> None:
    """Write the cache into a fresh folder beside `folder` and swap it in, so a reader never sees half of one."""
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    private_dir(tmp)
    try:
        _write(_frame_to_table(reg.std), tmp / "std.arrow")
        _write(_frame_to_table(reg.keys), tmp / "keys.arrow")
        _write(_arrays_table(reg.tf), tmp / "tf.arrow")
        _write(_arrays_table(reg.fanout), tmp / "fanout.arrow")
        for i, frame in enumerate(reg.multi.values()):
            _write(_frame_to_table(frame), tmp / f"multi-{i}.arrow")
        index = reg.index()
        tables = [*index.single.values(), *index.multi.values(), index.handles]
        for i, table in enumerate(tables):
            _write(pa.table({"keys": table.keys, "rows": table.rows}), tmp / f"index-{i}.arrow")
        write_private_text(tmp / MANIFEST, json.dumps({
            "format": FORMAT, "fingerprint": key, "max_block": reg.max_block,
            "tf": [_key_json(k) for k in reg.tf], "fanout": [_key_json(k) for k in reg.fanout],
            "multi": [_key_json(k) for k in reg.multi],
            "index_single": list(index.single), "index_multi": [_key_json(k) for k in index.multi]}))
        aside = folder.with_name(f".{folder.name}.{os.getpid()}.old")
        if folder.exists():
            os.replace(folder, aside)
        os.replace(tmp, folder)
        shutil.rmtree(aside, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_arrays(path: Path, keys: list[Any]) -> dict[Any, np.ndarray]:
    table = _read(path)
    if table.num_columns != len(keys):
        raise ValueError(f"{path}: {table.num_columns} columns where the manifest lists {len(keys)}")
    return {_key_from_json(k): np.array(table.column(i).to_numpy(), copy=True)  # writable, as prepared
            for i, k in enumerate(keys)}


def load_prepared(folder: Path, key: str) -> PreparedRegister | None:
    """The cached register if the manifest's fingerprint is `key`; None when there is no such cache. The
    manifest is read first: the Arrow files of another register or another code version are never opened."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None
    if manifest.get("format") != FORMAT or manifest.get("fingerprint") != key:
        return None
    try:
        reg = PreparedRegister(
            std=_table_to_frame(_read(folder / "std.arrow")),
            keys=_table_to_frame(_read(folder / "keys.arrow")),
            tf=_read_arrays(folder / "tf.arrow", manifest["tf"]),
            fanout=_read_arrays(folder / "fanout.arrow", manifest["fanout"]),
            multi={_key_from_json(k): _table_to_frame(_read(folder / f"multi-{i}.arrow"))
                   for i, k in enumerate(manifest["multi"])},
            max_block=int(manifest["max_block"]))
        reg._index = _read_index(folder, manifest["index_single"], [_key_from_json(k) for k in manifest["index_multi"]])
        return reg
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None  # a damaged cache: prepare again


def _read_index(folder: Path, single: list[str], multi: list[Any]) -> RegisterIndex:
    """The blocking index as save_prepared wrote it: the single rules' tables, the multi rules', the handles'."""
    tables = []
    for i in range(len(single) + len(multi) + 1):
        t = _read(folder / f"index-{i}.arrow")
        tables.append(KeyIndex(np.array(t.column("keys").to_numpy(), copy=True),
                               np.array(t.column("rows").to_numpy(), copy=True)))
    return RegisterIndex(dict(zip(single, tables)), dict(zip(multi, tables[len(single):])), tables[-1])


def load_prepared_register(register_path: str | Path, cache_dir: str | Path,
                           settings: LinkSettings | None = None) -> PreparedRegister:
    """The register prepared for linking, from the cache when the register and the code are unchanged."""
    register_path, folder = Path(register_path), Path(cache_dir) / CACHE_DIR
    (Path(cache_dir) / OLD_PICKLE).unlink(missing_ok=True)
    settings = settings or load_settings()
    key = fingerprint(register_path, settings.blocking.max_block)
    cached = load_prepared(folder, key)
    if cached is not None:
        return cached.teach_lexicon()
    reg = prepare_register(read_table(register_path), settings)
    private_dir(folder.parent)
    save_prepared(reg, folder, key)
    return reg
