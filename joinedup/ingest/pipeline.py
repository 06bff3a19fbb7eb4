"""One channel-day through ingestion: find the delivery, stage, validate, publish.

Each step reads and writes only the lake (staging folder, partitions, audit), so the steps can run as
separate Airflow tasks in separate processes, or back to back from `joinedup ingest`. Manifests are small
JSON-able dicts (they travel as XCom).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.compute as pc

from joinedup.channels import BUSINESS_TZ, Channel, load_channels
from joinedup.ingest import audit, landing, suppress
from joinedup.ingest import lake as lk
from joinedup.ingest.localtime import local_midnight_utc
from joinedup.ingest.normalise import DayNormaliser
from joinedup.ingest.schema import CONTACT_COLUMNS, QUARANTINE_SCHEMA
from joinedup.paths import exports_root, lake_root
from joinedup.zones import LAKE_RESTRICTED, check_restricted, write_private_text

STAGED = "staged.arrow"
STAGED_QUARANTINE = "quarantine.arrow"
MANIFEST = "manifest.json"
GX_REJECTS = "gx_rejects.json"


@dataclass
class Delivery:
    """What arrived for a channel-day. `missing`: no day folder (a missed delivery, not an empty day);
    `unreadable`: the folder is there but cannot be listed. `unexpected`: entries of the folder that are not
    read (joinedup.ingest.landing), each named in the audit."""

    status: str  # present | empty_day | missing | unreadable
    folder: str
    files: list[str] = field(default_factory=list)
    unexpected: list[landing.Unexpected] = field(default_factory=list)
    error: str | None = None


def find_delivery(ch: Channel, day: date, exports: str | None = None) -> Delivery:
    folder = ch.day_url(day, exports)
    fs, path = fsspec.core.url_to_fs(folder)
    if not fs.isdir(path):
        return Delivery("missing", folder)
    try:
        entries = landing.list_folder(folder)
    except OSError as e:
        return Delivery("unreadable", folder, error=f"{type(e).__name__}: {e.strerror or 'no detail'}")
    files, unexpected = landing.classify_day(entries, ch.file_glob(day), f"{ch.name}/{ch.day_folder.format(day=day)}")
    return Delivery("present" if files else "empty_day", folder, [e.path for e in files], unexpected)


_FINGERPRINTS: dict[int, tuple[Channel, str]] = {}


def config_fingerprint(ch: Channel) -> str:
    """What else decides a partition's bytes besides the files: the channel's config and its GX suites.
    A day is only skipped as unchanged if this is unchanged too."""
    from joinedup.ingest.validate import CANONICAL_SUITE, suite_doc

    hit = _FINGERPRINTS.get(id(ch))
    if hit is None or hit[0] is not ch:
        doc = {"channel": asdict(ch), "suites": [suite_doc(n) for n in (ch.name, CANONICAL_SUITE)]}
        hit = _FINGERPRINTS[id(ch)] = (ch, hashlib.sha256(json.dumps(doc, sort_keys=True, default=str)
                                                          .encode()).hexdigest())
    return hit[1]


def new_run_id() -> str:
    return f"cli-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def _rel(ch: Channel, day: date, url: str) -> str:
    return f"{ch.name}/{ch.day_folder.format(day=day)}/{url.rstrip('/').rsplit('/', 1)[-1]}"


def _paths(exports: str | None, lake: Path | str | None) -> tuple[str, Path]:
    return (exports if exports is not None else exports_root()), Path(lake) if lake is not None else lake_root()


@dataclass
class StagedDay:
    """A channel-day between stage and publish: its manifest, and (when staged) its tables."""

    manifest: dict[str, Any]
    staged: pa.Table | None = None
    quarantine: pa.Table | None = None
    rejects: list[list[Any]] = field(default_factory=list)  # [position, field, reason] from GX


def stage_day(channel: str, day: date, exports: str | None = None, lake: Path | str | None = None,
              run: str | None = None, force: bool = False) -> dict[str, Any]:
    """Parse and normalise the day's files into lake/_staging; skip a day whose files are all unchanged."""
    check_zones(_paths(exports, lake)[1], channel)
    sweep_channel(_paths(exports, lake)[1], channel, run)
    sd = _stage(channel, day, exports, lake, run, force)
    if sd.staged is not None:
        lake_ = Path(sd.manifest["lake"])
        folder, root = lk.staging(lake_, channel, day), lk.zone_root(lake_, "_staging")
        lk.write_ipc_atomic(sd.staged, folder / STAGED, root)
        lk.write_ipc_atomic(sd.quarantine, folder / STAGED_QUARANTINE, root)  # type: ignore[arg-type]
        write_private_text(folder / MANIFEST, json.dumps(sd.manifest, ensure_ascii=False, indent=1))
    return sd.manifest


def check_zones(lake: Path, channel: str) -> None:
    """Refuse to ingest when the lake's restricted zones (their roots, and this channel's folders in them) are
    open to group or others: they hold PII as delivered (joinedup.zones). Other channels' folders are checked
    by their own runs."""
    roots = [lake / zone for zone in LAKE_RESTRICTED]
    check_restricted(*roots, recursive=False)
    check_restricted(*(root / channel for root in roots))


def _stage(channel: str, day: date, exports: str | None, lake: Path | str | None, run: str | None,
           force: bool) -> StagedDay:
    exports_, lake_ = _paths(exports, lake)
    ch = load_channels()[channel]
    run = run or new_run_id()
    manifest: dict[str, Any] = {"run": run, "channel": channel, "day": day.isoformat(), "files": [],
                                "lake": str(lake_), "started_epoch": time.time()}
    delivery = find_delivery(ch, day, exports_)
    manifest["folder"] = delivery.folder
    lk.clear_staging(lake_, channel, day)
    manifest["landing_unexpected"] = record_landing(ch, day, exports_, lake_, run)
    if delivery.status == "missing":
        manifest["status"] = "missing_delivery"
        record_missing_delivery(channel, day, lake_, run, exports_)
        return StagedDay(manifest)
    if delivery.status == "unreadable":  # nothing is known of the day: its partitions stay as they are
        manifest["status"] = "unreadable_delivery"
        manifest["files"] = [{
            "run": run, "channel": channel, "day": day.isoformat(), "file": f"{channel}/{ch.day_folder.format(day=day)}",
            "status": "failed", "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "warnings": [],
            "errors": [f"the day folder cannot be listed ({delivery.error}): nothing in it was read, the day's "
                       "partitions are left as they were"], "at": audit.now()}]
        audit.append(lake_, channel, day, manifest["files"])
        return StagedDay(manifest)

    history = audit.read(lake_, channel, day)
    blobs: list[tuple[str, str, bytes | None, str | None, OSError | None]] = []
    for url in delivery.files:
        started = audit.now()
        try:
            with fsspec.open(url, "rb") as f:
                data = f.read()
        except OSError as e:  # permissions, vanished since listed: the file is quarantined, the day goes on
            blobs.append((_rel(ch, day, url), started, None, None, e))
            continue
        blobs.append((_rel(ch, day, url), started, data, hashlib.sha256(data).hexdigest(), None))
    unexpected = [_unexpected_record(u, run, channel, day) for u in delivery.unexpected]
    current = {rel: sha for rel, _, _, sha, _ in blobs}
    partition_there = (lk.partition(lake_, "raw", channel, day) / lk.PART).exists()
    config = config_fingerprint(ch)
    manifest["config_sha256"] = config
    readable = all(err is None for *_, err in blobs)
    if not force and blobs and readable and partition_there and current == audit.last_loaded(history, config):
        manifest["status"] = "unchanged"
        manifest["files"] = [{
            "run": run, "channel": channel, "day": day.isoformat(), "file": rel, "sha256": sha,
            "bytes": len(data),  # type: ignore[arg-type]
            "config_sha256": config, "status": "unchanged", "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0,
            "errors": [], "warnings": ["byte-identical to the version already loaded: not loaded again"],
            "started_at": started, "finished_at": audit.now()} for rel, started, data, sha, _ in blobs] + unexpected
        audit.append(lake_, channel, day, manifest["files"])
        return StagedDay(manifest)

    before = audit.ever_loaded(history)
    norm = DayNormaliser(ch)
    seen_sha: dict[str, str] = {}
    for rel, started, data, sha, err in blobs:
        rec: dict[str, Any] = {"run": run, "channel": channel, "day": day.isoformat(), "file": rel, "sha256": sha,
                               "bytes": None if data is None else len(data), "config_sha256": config,
                               "started_at": started}
        if data is None or sha is None:
            outcome = norm.add_unreadable(rel, err)  # type: ignore[arg-type]
            rec.update({k: v for k, v in asdict(outcome).items() if k != "source_file"})
        elif sha in seen_sha:
            rec.update(status="duplicate_file", rows_read=0, rows_loaded=0, rows_quarantined=0, errors=[],
                       warnings=[f"byte-identical to {seen_sha[sha]} delivered the same day: not loaded twice"])
        else:
            seen_sha[sha] = rel
            outcome = norm.add_file(rel, data)
            rec.update({k: v for k, v in asdict(outcome).items() if k != "source_file"})
        if before.get(rel) and before[rel] != sha:
            rec["replaces_sha256"] = before[rel]
        rec["finished_at"] = audit.now()
        manifest["files"].append(rec)
    manifest["status"] = "staged" if blobs else "empty_day"
    table = norm.staged_table()
    for rec in manifest["files"]:  # the Arrow net may have moved rows to quarantine after the file's outcome
        outcome = norm.outcomes.get(rec["file"])
        if outcome is not None and rec.get("status") != "duplicate_file":
            rec.update(rows_loaded=outcome.rows_loaded, rows_quarantined=outcome.rows_quarantined)
    manifest["files"].extend(unexpected)
    staged, quarantine = suppress.apply(table, norm.quarantine_table(), manifest["files"])
    manifest["rows_staged"] = staged.num_rows
    return StagedDay(manifest, staged, quarantine)


def _unexpected_record(u: landing.Unexpected, run: str, channel: str | None, day: date) -> dict[str, Any]:
    """An entry of the landing zone that was not read, as an audit line: it holds no rows we read."""
    return {"run": run, "channel": channel, "day": day.isoformat(), "file": u.file, "status": "unexpected",
            "kind": u.kind, "bytes": u.size, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "errors": [],
            "warnings": [f"unexpected {u.kind}: {u.reason}"], "at": audit.now()}


def record_landing(ch: Channel, day: date, exports: str, lake: Path, run: str) -> list[str]:
    """Name, in the landing audit (lake/_audit/_landing/date=<day>/), what lies outside the day folders: strays in
    the channel's folder, and entries at the landing zone's root that are no configured channel's (a channel
    missing from channels.yml). Each is written once a day, whichever channel's run sees it first. -> the names
    this run saw."""
    strays = [_unexpected_record(u, run, ch.name, day) for u in landing.strays_in_channel(ch, exports)]
    strays += [_unexpected_record(u, run, None, day) for u in landing.strays_at_root(load_channels(), exports, day)]
    if strays:
        audit.append_new(lake, audit.LANDING, day, strays)
    return [r["file"] for r in strays]


def sweep_channel(lake: Path, channel: str, run: str | None) -> None:
    """Remove the temp files killed runs left in the channel's partitions (older than an hour, since other
    runs of the channel may be writing other days), naming them in each day's audit."""
    for day, paths in lk.sweep_channel(lake, channel).items():
        audit.append(lake, channel, day, [_swept_record(paths, lake, run or new_run_id(), channel, day)])


def _swept_record(paths: list[Path], lake: Path, run: str, channel: str, day: date) -> dict[str, Any]:
    names = ", ".join(sorted(str(p.relative_to(lake)) for p in paths))
    return {"run": run, "channel": channel, "day": day.isoformat(), "file": None, "status": "temp_files_removed",
            "warnings": [f"removed {len(paths)} temp file(s) an interrupted earlier write left: {names}"],
            "at": audit.now()}


def validate_staged(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the channel's GX suite and the canonical suite over each staged day in lake/_staging; the rows to
    reject are written next to it for publish. Adds the GX summary to each manifest."""
    from joinedup.ingest.validate import CANONICAL_SUITE, suite_columns

    todo = [m for m in manifests if m["status"] in ("staged", "empty_day")]
    for m in todo:
        channel = m["channel"]
        cols = [c for c in suite_columns([channel, CANONICAL_SUITE]) if c in CONTACT_COLUMNS]
        folder = lk.staging(Path(m["lake"]), channel, date.fromisoformat(m["day"]))
        sd = StagedDay(m, lk.read_ipc(folder / STAGED, columns=cols))
        validate_days([sd])
        write_private_text(folder / GX_REJECTS, json.dumps(sd.rejects, ensure_ascii=False))
    return manifests


def validate_days(days: list[StagedDay]) -> None:
    """One GX run (channel suite + canonical suite) over several staged days of one channel."""
    from joinedup.ingest.validate import CANONICAL_SUITE, frame_for, suite_columns, validate_frame

    days = [d for d in days if d.staged is not None]
    if not days:
        return
    ch = load_channels()[days[0].manifest["channel"]]
    suites = [ch.name, CANONICAL_SUITE]
    cols = suite_columns(suites)
    tables = [d.staged.select([c for c in cols if c in CONTACT_COLUMNS]) for d in days]  # type: ignore[union-attr]
    starts: list[Any] = []
    for d, t in zip(days, tables, strict=True):  # delivery days are local business days, whatever the source tz
        starts.extend([local_midnight_utc(date.fromisoformat(d.manifest["day"]), BUSINESS_TZ)] * t.num_rows)
    table = pa.concat_tables(tables)
    rejections, warnings, summary = ([], [], {}) if table.num_rows == 0 else \
        validate_frame(frame_for(table, starts, cols), suites)
    bounds = []
    offset = 0
    for t in tables:
        bounds.append(offset)
        offset += t.num_rows
    for d in days:
        d.rejects = []
    for r in rejections:
        k = bisect.bisect_right(bounds, r.index) - 1
        days[k].rejects.append([r.index - bounds[k], r.field, r.reason])
    for d in days:
        d.manifest["gx"] = {"suites": summary, "warnings": warnings, "batch_days": len(days),
                            "rows_rejected": len({p for p, _, _ in d.rejects})}


def publish_day(manifest: dict[str, Any]) -> dict[str, Any]:
    """Swap in the day's raw and quarantine partitions (from lake/_staging) and append the audit."""
    channel, day, lake_ = manifest["channel"], date.fromisoformat(manifest["day"]), Path(manifest["lake"])
    if manifest["status"] in NOT_PUBLISHED:
        return summarise(manifest)
    folder = lk.staging(lake_, channel, day)
    rejects_file = folder / GX_REJECTS
    if not rejects_file.exists():
        raise RuntimeError(f"{channel} {day}: staged data was not validated (no {GX_REJECTS}); run validate first")
    sd = StagedDay(manifest, lk.read_ipc(folder / STAGED), lk.read_ipc(folder / STAGED_QUARANTINE),
                   json.loads(rejects_file.read_text(encoding="utf-8")))
    out = _publish(sd)
    lk.clear_staging(lake_, channel, day)
    return out


def _publish(sd: StagedDay) -> dict[str, Any]:
    manifest = sd.manifest
    channel, day, lake_ = manifest["channel"], date.fromisoformat(manifest["day"]), Path(manifest["lake"])
    status = manifest["status"]
    if status in NOT_PUBLISHED:
        return summarise(manifest)
    staged, quarantine = sd.staged, sd.quarantine
    assert staged is not None and quarantine is not None
    rejects: dict[int, list[tuple[str, str]]] = {}
    for pos, fld, reason in sd.rejects:
        rejects.setdefault(pos, []).append((fld, reason))
    if rejects:
        mask = pa.array([i in rejects for i in range(staged.num_rows)])
        bad = staged.filter(mask)
        positions = sorted(rejects)
        files = bad.column("source_file").to_pylist()
        rows = bad.column("source_row").to_pylist()
        lines = bad.column("_line").to_pylist()
        raws = bad.column("_raw").to_pylist()
        extra = pa.table({
            "channel": [channel] * len(positions),
            "source_file": files,
            "source_row": rows,
            "line": lines,
            "field": [rejects[p][0][0] for p in positions],
            "check": ["gx"] * len(positions),
            "reason": [f"{f} row {r} (line {ln}) field {rejects[p][0][0]}: "
                       + "; ".join(reason for _, reason in rejects[p])
                       for p, f, r, ln in zip(positions, files, rows, lines)],
            "raw": [b.decode("utf-8", errors="replace") for b in raws],
            "raw_bytes": raws,
        }, schema=QUARANTINE_SCHEMA)
        quarantine = pa.concat_tables([quarantine, extra])
        staged = staged.filter(pc.invert(mask))
        moved = Counter(files)
        for rec in manifest["files"]:
            k = moved.get(rec["file"], 0)
            if k:
                rec["rows_loaded"] -= k
                rec["rows_quarantined"] += k
                rec.setdefault("errors", []).append(f"{k} row(s) failed great-expectations checks: quarantined")
    if quarantine.num_rows:
        quarantine = quarantine.sort_by([("source_file", "ascending"), ("source_row", "ascending")])
    # This channel-day is written by one run at a time: any temp file in its partitions older than this run's
    # start is a killed write's litter.
    swept = lk.sweep_temp([lk.partition(lake_, zone, channel, day) for zone in ("raw", "quarantine")],
                          manifest.get("started_epoch", time.time()))
    lk.replace_partition(staged.select(list(CONTACT_COLUMNS)), lake_, "raw", channel, day, keep_empty=True)
    lk.replace_partition(quarantine, lake_, "quarantine", channel, day, keep_empty=False)
    published = audit.now()
    gx = manifest.get("gx", {})
    records = []
    for rec in manifest["files"]:
        rec = dict(rec, published_at=published)
        if gx.get("warnings"):
            rec["warnings"] = rec.get("warnings", []) + [f"gx: {w}" for w in gx["warnings"]]
        records.append(rec)
    if status == "empty_day":
        stray = sum(1 for r in records if r.get("status") == "unexpected")
        holds = f"no files it reads ({stray} unexpected entr{'y' if stray == 1 else 'ies'}, named above)" \
            if stray else "no files"
        records.append({"run": manifest["run"], "channel": channel, "day": manifest["day"], "file": None,
                        "status": "empty_day", "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0,
                        "warnings": [f"folder {manifest['folder']} exists but holds {holds}: a valid empty day"],
                        "published_at": published})
    if swept:
        records.append(dict(_swept_record(swept, lake_, manifest["run"], channel, day), published_at=published))
    manifest["files"] = records
    manifest["status"] = "published" if status == "staged" else status
    audit.append(lake_, channel, day, records)
    return summarise(manifest)


NOT_PUBLISHED = ("missing_delivery", "unchanged", "unreadable_delivery")


def summarise(manifest: dict[str, Any]) -> dict[str, Any]:
    files = [f for f in manifest.get("files", []) if f.get("file")]
    return {
        "channel": manifest["channel"], "day": manifest["day"], "status": manifest["status"],
        "files": len(files),
        "rows_read": sum(f.get("rows_read", 0) for f in files),
        "rows_loaded": sum(f.get("rows_loaded", 0) for f in files),
        "rows_quarantined": sum(f.get("rows_quarantined", 0) for f in files),
        "rows_suppressed": sum(f.get("rows_suppressed", 0) for f in files),
        "failed_files": [f["file"] for f in files if f.get("status") == "failed"],
        "unexpected": [f["file"] for f in files if f.get("status") == "unexpected"]
        + manifest.get("landing_unexpected", []),
        "warnings": sum(len(f.get("warnings", [])) for f in files),
    }


def ingest(channels: list[str] | None, days: list[date], exports: str | None = None,
           lake: Path | str | None = None, force: bool = False, batch_rows: int = 200_000,
           run: str | None = None, workers: int = 1) -> list[dict[str, Any]]:
    """Everything the DAGs do, without a scheduler: per channel, stage days, validate in batches, publish.

    With `workers` > 1, each channel's days are cut into `workers` contiguous runs and the (channel, run) jobs
    go to a process pool, biggest first: channel-days are independent, so this is the unit to distribute
    (as a Spark job would).
    """
    names = channels or list(load_channels())
    run = run or new_run_id()
    exports_, lake_ = _paths(exports, lake)
    if workers <= 1:
        return [r for n in names for r in _ingest_channel(n, days, exports_, str(lake_), force, batch_rows, run)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from joinedup.ingest.validate import gx_context

    gx_context()  # import great-expectations once, before forking, rather than once per worker
    size = {n: _channel_bytes(n, days, exports_) for n in names}
    step = -(-len(days) // workers)
    jobs = [(n, days[i:i + step]) for n in names for i in range(0, len(days), step)]
    order = sorted(range(len(jobs)), key=lambda j: -size[jobs[j][0]])
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = {j: pool.submit(_ingest_channel, jobs[j][0], jobs[j][1], exports_, str(lake_), force,
                                  batch_rows, run) for j in order}
        return [r for j in range(len(jobs)) for r in futures[j].result()]


def _ingest_channel(name: str, days: list[date], exports: str, lake: str, force: bool, batch_rows: int,
                    run: str) -> list[dict[str, Any]]:
    """In one process, without staging files: stage days in memory until `batch_rows`, validate the batch in
    one GX run, publish its days. Memory is bounded by the batch, not by the number of days."""
    check_zones(Path(lake), name)
    sweep_channel(Path(lake), name, run)
    out: list[dict[str, Any]] = []
    batch: list[StagedDay] = []
    size = 0
    for i, d in enumerate(days):
        sd = _stage(name, d, exports, lake, run, force)
        batch.append(sd)
        size += sd.staged.num_rows if sd.staged is not None else 0
        if size >= batch_rows or i == len(days) - 1:
            validate_days(batch)
            out.extend(_publish(b) for b in batch)
            batch, size = [], 0
    return out


def _channel_bytes(name: str, days: list[date], exports: str) -> int:
    """Rough size of a channel's work, to start the biggest first."""
    ch = load_channels()[name]
    fs, path = fsspec.core.url_to_fs(ch.location.format(exports=exports.rstrip("/")))
    try:
        return int(fs.du(path))
    except (FileNotFoundError, NotImplementedError):
        return 0


def delivery_status(channel: str, day: date, exports: str | None = None) -> str:
    """present | empty_day | missing: what the missing-delivery sensor pokes."""
    exports_, _ = _paths(exports, None)
    return find_delivery(load_channels()[channel], day, exports_).status


def record_missing_delivery(channel: str, day: date, lake: Path | str | None = None, run: str | None = None,
                            exports: str | None = None) -> None:
    exports_, lake_ = _paths(exports, lake)
    ch = load_channels()[channel]
    folder = ch.day_url(day, exports_)
    fs, path = fsspec.core.url_to_fs(folder)
    what = "exists but is not a folder" if fs.lexists(path) else "does not exist"
    audit.append(lake_, channel, day, [{
        "run": run or new_run_id(), "channel": channel, "day": day.isoformat(), "file": None,
        "status": "missing_delivery", "errors": [f"no delivery: folder {folder} {what}"],
        "at": audit.now()}])
