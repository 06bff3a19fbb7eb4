"""Reading and writing Parquet or CSV by extension, every column as string."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_table(path: str | Path) -> pd.DataFrame:
    p = Path(path)
    if p.suffix.lower() == ".parquet" or p.is_dir():
        df = pd.read_parquet(p)
        return df.astype(object).where(df.notna(), None)
    return pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() == ".parquet":
        df.to_parquet(p, index=False)
    else:
        df.to_csv(p, index=False)
