"""Arrow schemas of what ingestion writes: the canonical contact (data contract section 2) and quarantine."""

from __future__ import annotations

import pyarrow as pa

_TS = pa.timestamp("us")  # UTC wall time, no zone attached: the contract's TIMESTAMP
_TIMES = {"occurred_at", "first_response_at", "resolved_at"}
_INTS = {"source_row", "wait_seconds", "handle_seconds"}

CONTACT_COLUMNS: tuple[str, ...] = (
    "contact_id", "channel", "platform", "source_system", "source_file", "source_row", "direction", "service",
    "occurred_at", "first_response_at", "resolved_at", "outcome", "wait_seconds", "handle_seconds", "case_ref",
    "given_name", "family_name", "full_name", "date_of_birth", "postcode", "address_line", "email", "phone",
    "handle", "display_name", "location", "message_text", "reference_id",
)

CONTACT_SCHEMA = pa.schema(
    [pa.field(c, _TS if c in _TIMES else pa.int64() if c in _INTS else pa.string()) for c in CONTACT_COLUMNS]
)

# Staging keeps the raw row next to the contact so a row that GX rejects can still be quarantined unchanged.
STAGED_SCHEMA = CONTACT_SCHEMA.append(pa.field("_raw", pa.binary())).append(pa.field("_line", pa.int64()))

QUARANTINE_SCHEMA = pa.schema([
    pa.field("channel", pa.string()),
    pa.field("source_file", pa.string()),
    pa.field("source_row", pa.int64()),
    pa.field("line", pa.int64()),
    pa.field("field", pa.string()),
    pa.field("check", pa.string()),  # file | parse | field | duplicate | gx
    pa.field("reason", pa.string()),
    pa.field("raw", pa.string()),  # the row as text (undecodable bytes shown as U+FFFD)
    pa.field("raw_bytes", pa.binary()),  # the row exactly as delivered
])
