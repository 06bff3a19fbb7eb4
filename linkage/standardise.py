"""Register and contact frames -> one standard schema that the comparators read.

Pure pandas, one batch in, one batch out, so it can run per partition (mapInPandas) later.
Expensive per-value work (nicknames, phonenumbers, handle decomposition) runs once per
distinct value.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from linkage.dates import normalise_dob
from linkage.emails import emails_in_text, local_part, normalise_email
from linkage.handles import decompose, is_forename, network_name, qualified_handle
from linkage.mentions import account_refs_in_text, case_refs_in_text, signature_name
from linkage.names import canonical, clean_name, family_key, map_unique, soundex
from linkage.phones import phones_in_text, to_e164
from linkage.places import location_fields
from linkage.postcodes import parse_postcode, postcodes_in_text
from linkage.protection import is_junk
from linkage.settings import EdgePolicy, load_settings
from linkage.valuecodes import str_unique

STD_COLUMNS = [
    "id", "given", "given_canon", "family", "family_sx", "name_key", "name_key3", "initial_key", "given_initial_key", "dob", "dob_year", "postcode", "pc_district",
    "pc_sector", "address", "house_no", "town", "location", "loc_kind", "loc_district", "email", "phone", "ref", "handle", "known_handles",
    "h_source", "h_forename", "h_canon", "h_surnames", "h_initials", "h_years", "case_ref", "m_email", "m_phone",
    "m_postcode",
]
ADDRESS_ABBREV = {
    "st": "street", "rd": "road", "ave": "avenue", "av": "avenue", "ln": "lane", "dr": "drive",
    "cres": "crescent", "ct": "court", "pl": "place", "sq": "square", "gdns": "gardens",
    "tce": "terrace", "cl": "close", "hse": "house", "flt": "flat", "apt": "flat",
}
_WORD = re.compile(r"[a-z0-9]+")
_SEP = "\x1f"  # joins two values that one per-distinct-value function reads together
_REF = re.compile(r"[^A-Z0-9]")


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    """The column as object strings with blanks as None; an all-null column if absent."""
    if name not in df.columns:
        return pd.Series(None, index=df.index, dtype=object)
    s = df[name]
    if not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
        s = s.astype(str).where(s.notna(), None)
    s = s.astype(object)
    blank = s.isna() | (str_unique(s, lambda x: x.str.strip()) == "").fillna(True).astype(bool)
    return s.where(~blank, None).astype(object)


def _address(raw: str) -> str | None:
    words = [ADDRESS_ABBREV.get(w, w) for w in _WORD.findall(raw.lower())]
    return " ".join(words) or None


def _ref(raw: str) -> str | None:
    s = _REF.sub("", raw.upper())
    return s or None


def _town(raw: str) -> str | None:
    return clean_name(raw.split(",")[0])


def _contact_handle(value: str) -> str | None:
    """'handle<SEP>network' -> the handle qualified by its network (linkage.handles.qualified_handle)."""
    handle, _, network = value.partition(_SEP)
    return qualified_handle(handle, network or None)


def _known_handles(raw: str) -> str | None:
    hs = sorted({h for h in (qualified_handle(x) for x in raw.split(";")) if h})
    return "|".join(hs) or None


def _join(values) -> str | None:
    return "|".join(str(v) for v in values) or None


def _fill(a: pd.Series, b: pd.Series) -> pd.Series:
    """a, with its nulls taken from b (object dtype kept)."""
    return a.where(a.notna(), b).astype(object)


def _display_words(s: str) -> tuple[str, str] | None:
    w = s.split(" ")
    return (w[0], w[-1]) if len(w) >= 2 and len(w[0]) >= 2 and len(w[-1]) >= 2 else None


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _parts(values: pd.Series, fn, fields: list[str]) -> pd.DataFrame:
    """Several outputs of one per-value function, computed once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    rows = [fn(u) for u in uniques]
    cols = {}
    for i, f in enumerate(fields):
        arr = np.array([r[i] if r is not None else None for r in rows] + [None], dtype=object)
        cols[f] = arr[codes]
    return pd.DataFrame(cols, index=values.index)


def _handle_fields(profile: str) -> tuple | None:
    """Name evidence of a handle (or user-name) and a display name that is not a full name.

    Each is decomposed on its own, then merged: joined into one string, the display name's
    words changed how the handle was cut ('kylem78' + 'Real Miss' stopped reading as kyle + m,
    and 'Les J' after 'jenkins.l' read 'les' as a word after an initial, not a forename).
    """
    parts = [decompose(x) for x in profile.split(_SEP) if x]
    forename = next((p.forename for p in parts if p.forename), None)
    canon = next((p.forename_canonical for p in parts if p.forename), None)

    def merged(attr: str) -> list:
        seen: list = []
        for p in parts:
            seen += [x for x in getattr(p, attr) if x not in seen]
        return seen

    # a token that is the forename in one part is not a surname in another ('Jules W', 'jules_waters')
    surnames = [t for t in merged("surnames") if t != forename]
    return (forename, canon, _join(surnames), _join(merged("initials")), _join(merged("years")))


def standardise(df: pd.DataFrame, id_column: str, handles: bool = True, policy: EdgePolicy | None = None
                ) -> pd.DataFrame:
    """Standard frame indexed 0..n-1 with STD_COLUMNS; `id` holds `id_column`.

    handles=False skips reading names out of handles and e-mail user-names (the register side
    never compares them, and it is the costliest step).
    """
    df = df.reset_index(drop=True)
    out = pd.DataFrame(index=df.index)
    out["id"] = df[id_column].astype(str)

    given_raw, family_raw, display = _col(df, "given_name"), _col(df, "family_name"), _col(df, "display_name")
    text = _col(df, "message_text")
    has_text = bool(text.notna().any())
    # no name fields: fall back to a full name, then a signed-off name in the message
    display = _fill(display, _col(df, "full_name").where(given_raw.isna() & family_raw.isna(), None))
    if has_text:
        display = _fill(display, map_unique(text, signature_name))
    display_clean = map_unique(display, clean_name)
    # 'Lucy Smith' is a name; 'Lucy S' is not enough of one, and leaves the handle to speak
    dw = _parts(display_clean, _display_words, ["first", "last"])
    # ...and only if it starts with a forename: 'Grumpy Lover' and 'Northern Mrs' are not names
    first_is_name = map_unique(dw["first"], lambda w: is_forename(clean_name(w) or "")).astype(bool)
    use_display = given_raw.isna() & family_raw.isna() & dw["first"].notna() & first_is_name
    given_src = given_raw.where(~use_display, dw["first"])
    family_src = family_raw.where(~use_display, dw["last"])
    out["given"] = map_unique(given_src, lambda s: (clean_name(s) or "").split(" ")[0] or None)
    out["given_canon"] = map_unique(out["given"], canonical)
    out["family"] = map_unique(family_src, family_key)
    out["family_sx"] = map_unique(out["family"], soundex)
    out["name_key"] = (out["given_canon"] + "|" + out["family"]).where(out["family"].notna(), None)
    out["initial_key"] = (str_unique(out["given"], lambda x: x.str[:1]) + "|" + out["family"]).where(out["family"].notna(), None)
    out["given_initial_key"] = (out["given_canon"] + "|" + str_unique(out["family"], lambda x: x.str[:1])).where(out["family"].notna(), None)
    out["name_key3"] = (out["given_canon"] + "|" + str_unique(out["family"], lambda x: x.str[:3])).where(out["family"].notna(), None)

    out["dob"] = map_unique(_col(df, "date_of_birth"), normalise_dob)
    out["dob_year"] = pd.to_numeric(str_unique(out["dob"], lambda x: x.str[:4]), errors="coerce").astype("Int32")

    pc = _parts(_col(df, "postcode"), parse_postcode, ["postcode", "pc_district", "pc_sector"])
    out[["postcode", "pc_district", "pc_sector"]] = pc
    out["address"] = map_unique(_col(df, "address_line"), _address)
    out["house_no"] = str_unique(out["address"], lambda x: x.str.extract(r"(\d+)", expand=False))
    out["town"] = map_unique(_col(df, "town"), _town)
    # a social profile's location names a town, a district, the area, somewhere else or nothing (a joke):
    # read as a place (linkage.places), kept apart from the contact's own town
    out[["loc_kind", "location", "loc_district"]] = _parts(_col(df, "location"), location_fields,
                                                           ["loc_kind", "location", "loc_district"])

    email_raw = _col(df, "email")
    out["email"] = map_unique(email_raw, normalise_email)
    out["phone"] = map_unique(_col(df, "phone"), to_e164)
    out["ref"] = map_unique(_col(df, "reference_id"), _ref)
    handle_col = _col(df, "handle")
    network = map_unique(_col(df, "platform"), network_name)
    out["handle"] = map_unique((handle_col + _SEP + network.fillna("")).where(handle_col.notna(), None),
                               _contact_handle)
    out["known_handles"] = map_unique(_col(df, "known_handles"), _known_handles)
    out["case_ref"] = map_unique(_col(df, "case_ref"), _ref)

    # Name evidence from handle, a one-word display name, or the e-mail local part, in that order.
    # It is compared only when the record has no real name (see compare.py): the sources are not
    # independent of the name fields, so they must not add to them.
    # a display name that is not a full name still carries evidence ('Liam O', 'Vickie P'):
    # it is read together with the handle ('patel.v' + 'Vickie P' -> vickie, patel)
    spare_display = str_unique(display_clean.where(~use_display, None), lambda x: x.str.replace(" ", "_", regex=False))
    both = handle_col.notna() & spare_display.notna()
    handle_raw = _fill(handle_col, spare_display)
    handle_raw = handle_raw.where(~both, handle_col + _SEP + spare_display.fillna(""))
    h_src = _fill(handle_raw, map_unique(email_raw, local_part))
    out["h_source"] = np.where(handle_raw.notna(), "handle", np.where(h_src.notna(), "email", None))
    h_cols = ["h_forename", "h_canon", "h_surnames", "h_initials", "h_years"]
    if handles:
        out[h_cols] = _parts(h_src, _handle_fields, h_cols)
    else:
        out["h_source"] = None
        for c in h_cols:
            out[c] = pd.Series(None, index=df.index, dtype=object)

    if has_text:
        out["m_email"] = map_unique(text, lambda t: _first(emails_in_text(t)))
        out["m_phone"] = map_unique(text, lambda t: _first(phones_in_text(t)))
        out["m_postcode"] = map_unique(text, lambda t: _first(postcodes_in_text(t)))
        out["case_ref"] = _fill(out["case_ref"], map_unique(text, lambda t: _first(case_refs_in_text(t))))
        out["ref"] = _fill(out["ref"], map_unique(text, lambda t: _first(account_refs_in_text(t))))
    else:
        out["m_email"] = out["m_phone"] = out["m_postcode"] = pd.Series(None, index=df.index, dtype=object)
    # A contact's own details are often given only in the message ("call me on ...", "I'm at ...")
    out["email"] = _fill(out["email"], out["m_email"])
    out["phone"] = _fill(out["phone"], out["m_phone"])
    # placeholder values (test@test.com, 07000 000000) identify nobody: treat them as missing
    policy = policy or load_settings().edges
    for kind in ("email", "phone"):
        junk = map_unique(out[kind], lambda v, k=kind: is_junk(k, v, policy)).astype(bool)
        out[kind] = out[kind].where(~junk, None)
    need_pc = out["postcode"].isna() & out["m_postcode"].notna()
    if need_pc.any():
        pc_m = out.loc[need_pc, "m_postcode"].map(parse_postcode)
        out.loc[need_pc, "postcode"] = pc_m.map(lambda t: t[0])
        out.loc[need_pc, "pc_district"] = pc_m.map(lambda t: t[1])
        out.loc[need_pc, "pc_sector"] = pc_m.map(lambda t: t[2])
    for col in STD_COLUMNS:
        if out[col].dtype != object and col != "dob_year":
            out[col] = out[col].astype(object)
    out = out[STD_COLUMNS]
    return out
