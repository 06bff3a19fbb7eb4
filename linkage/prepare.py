"""Step 1, prepare: the register standardised once, with its blocking keys, term frequencies and identifier
fan-out, ready to score any number of contact batches against (linkage.register_cache keeps it between runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkage.blocking import RegisterIndex, register_keys, register_multi_keys
from linkage.handles import set_register_lexicon
from linkage.model import tf_tables
from linkage.places import set_register_towns
from linkage.protection import register_fanout
from linkage.settings import LinkSettings, load_settings
from linkage.standardise import standardise


@dataclass
class PreparedRegister:
    std: pd.DataFrame
    keys: pd.DataFrame
    tf: dict[str, np.ndarray]
    fanout: dict[str, np.ndarray]
    multi: dict[str, pd.DataFrame]  # forename-variant blocking keys (blocking.register_multi_keys)
    max_block: int  # the block cap the keys were built with (a setting)
    _index: RegisterIndex | None = field(default=None, init=False, repr=False, compare=False)

    def index(self) -> RegisterIndex:
        """The blocking rules' register side sorted for joins, built on first use and kept: every batch of
        contacts (and training) joins against it, and rebuilding it per batch cost more than the joins."""
        if self._index is None:
            self._index = RegisterIndex.build(self.std, self.keys, self.multi)
        return self._index

    @property
    def size(self) -> int:
        return len(self.std)

    def teach_lexicon(self) -> PreparedRegister:
        """Teach the handle decomposer this register's names, and the location reader its towns; contacts must be standardised after this (also
        when the register comes prepared from linkage.register_cache, in a fresh process)."""
        set_register_lexicon(self.std["given"].dropna().unique(), self.std["family"].dropna().unique())
        set_register_towns(self.std["town"].dropna().unique())
        return self


def prepare_register(register: pd.DataFrame, settings: LinkSettings | None = None) -> PreparedRegister:
    """Standardise the register, build its blocking keys and frequency tables, and teach the
    handle decomposer its names (contacts must be standardised after this)."""
    settings = settings or load_settings()
    std = standardise(register, "citizen_id", handles=False, policy=settings.edges)
    cap = settings.blocking.max_block
    return PreparedRegister(std, register_keys(std, cap), tf_tables(std), register_fanout(std),
                            register_multi_keys(std, cap), cap).teach_lexicon()
