"""Link settings: one typed, validated object for what an operator chooses, apart from what the model learns.

Thresholds, merge protection, block caps and name-similarity cut-offs are settings: a council decides them and
can change them (`joinedup relink` then re-decides stored contacts). The model's m and u probabilities and the
share of contacts in the register are learned from the data and persisted as data (linkage.model); a trained
model never carries settings, so changing a threshold is one line and never fights a saved file.

Values come from, lowest first: the packaged linkage/settings.yml (the one place defaults are written), a
file named by JOINEDUP_LINK_SETTINGS or passed to `load_settings` (only the keys it changes), keyword
overrides, then JOINEDUP_LINK__<SECTION>__<KEY> environment variables. An unknown key anywhere is an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PACKAGED = Path(__file__).with_name("settings.yml")
FILE_ENV = "JOINEDUP_LINK_SETTINGS"
ENV_PREFIX = "JOINEDUP_LINK__"


class SettingsError(ValueError):
    """A settings file or variable that is not valid; the message names the source and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Section):
    """Match-probability cut-offs: at or above `auto` links, at or above `review` queues, below is no match."""

    auto: float = Field(gt=0, le=1)
    review: float = Field(gt=0, le=1)
    ambiguity_bits: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.auto:
            raise ValueError(f"review ({self.review}) must not be above auto ({self.auto})")
        return self


class EdgePolicy(_Section):
    """Merge protection for strong identifiers: when a shared value is not evidence of one person."""

    max_citizens_per_identifier: int = Field(ge=1)
    max_contacts_per_identifier: int = Field(ge=2)
    contradiction_bits: float = Field(le=0)
    blocked_values: frozenset[str]


class Blocking(_Section):
    max_block: int = Field(ge=1)


class NameSimilarity(_Section):
    family_similar: float = Field(gt=0, le=1)
    forename_similar: float = Field(gt=0, le=1)
    min_short_form: int = Field(ge=1)


class ContextPolicy(_Section):
    """When contact context (service, time, channels, district) may join a contact nobody can identify to a
    journey (linkage.context): never to a citizen, and only when the calibrated probability is high and clear."""

    enabled: bool
    window_hours: float = Field(gt=0, le=168)
    min_probability: float = Field(gt=0.5, le=1)
    ambiguity_bits: float = Field(ge=0)
    max_candidates: int = Field(ge=1)


class LinkSettings(BaseSettings):
    """Every link setting. Build it with `load_settings()`; the fields have no defaults of their own."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid",
                                      frozen=True, case_sensitive=False)

    thresholds: Thresholds
    edges: EdgePolicy
    blocking: Blocking
    names: NameSimilarity
    context: ContextPolicy
    batch_size: int = Field(ge=1)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings  # the environment overrides the files

    def fingerprint(self) -> str:
        """A short stable digest, to say in an audit which settings a decision was made under."""
        import hashlib
        import json

        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:12]


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"link settings file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"link settings file {path} is not valid YAML: {exc}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise SettingsError(f"link settings file {path}: expected a mapping of sections, got {type(doc).__name__}")
    return doc


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _check_environment() -> None:
    """pydantic-settings ignores variables naming no field; a misspelt one must not be ignored silently."""
    known = set(LinkSettings.model_fields)
    for var in os.environ:
        if var.upper().startswith(ENV_PREFIX):
            section = var[len(ENV_PREFIX):].split("__", 1)[0].lower()
            if section not in known:
                raise SettingsError(f"{var}: no link setting {section!r}; known: {', '.join(sorted(known))}")


def load_settings(path: str | Path | None = None, **overrides: Any) -> LinkSettings:
    """The link settings in force: packaged defaults < `path` (or $JOINEDUP_LINK_SETTINGS) < overrides < env."""
    doc = _read(PACKAGED)
    source = Path(path) if path is not None else (Path(os.environ[FILE_ENV]) if os.environ.get(FILE_ENV) else None)
    if source is not None:
        doc = _merge(doc, _read(source))
    doc = _merge(doc, overrides)
    _check_environment()
    try:
        return LinkSettings(**doc)
    except ValidationError as exc:
        where = f"{source} (over {PACKAGED.name})" if source else str(PACKAGED)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"link settings from {where} or {ENV_PREFIX}* variables: {problems}") from None
