"""Social handles (and e-mail local parts) decomposed into name evidence.

"BettyBoo52" -> tokens betty/boo/52 -> forename betty (canonical elizabeth), surname prefix "boo",
birth year 1952. Steps: split on separators, camelCase and digit runs; segment run-together
letters (known forename prefix first, then `wordsegment`); tag each token as forename, surname,
initial, year or filler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from linkage.dates import year_candidates
from linkage.names import canonical, fold, forename_lexicon

FILLERS = frozenset(
    ["the", "real", "official", "its", "im", "i", "am", "a", "an", "mr", "mrs", "ms", "miss", "dr", "uk", "gb", "x", "xx", "xxx", "xo", "mum", "mom", "dad", "nan", "gran", "grandma", "grandad", "nanny", "fan", "lover", "girl", "boy", "lad", "lass", "baby", "babe", "mrs99", "hello", "hi", "just", "only", "tweets", "tweet", "insta", "online", "home", "life", "love", "loves", "mummy", "daddy", "not", "no", "one", "council", "of", "and"]
)
_SEPARATORS = re.compile(r"[\s._\-+|~!#$%&*=,;:/\\]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
MIN_FORENAME_PREFIX = 3


@dataclass(frozen=True)
class HandleParts:
    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    forename: str | None = None
    surnames: tuple[str, ...] = ()
    initials: tuple[str, ...] = ()
    years: tuple[int, ...] = field(default_factory=tuple)

    @property
    def forename_canonical(self) -> str | None:
        return canonical(self.forename) if self.forename else None

    @property
    def has_name_evidence(self) -> bool:
        return bool(self.forename or self.surnames or self.initials)


# A handle names one account on one network: '@jsmith' on X and 'jsmith' on Facebook can be two
# people. Handles are kept as 'network:handle' when the network is known, bare when not.
_NETWORKS = {"x": "x", "twitter": "x", "twitter/x": "x", "x/twitter": "x", "facebook": "facebook", "fb": "facebook",
             "instagram": "instagram", "ig": "instagram"}


def network_name(raw: str) -> str | None:
    """'Twitter/X' -> 'x', 'FB' -> 'facebook'; None for anything not a known network."""
    return _NETWORKS.get(raw.strip().lower())


def qualified_handle(handle: str, network: str | None = None) -> str | None:
    """'@BettyBoo52' on X -> 'x:bettyboo52'; 'x:@BettyBoo52' -> the same; no network -> 'bettyboo52'."""
    net, _, rest = handle.partition(":")
    if rest and network_name(net):
        network, handle = network_name(net), rest
    bare = handle.strip().lstrip("@").lower()
    if not bare:
        return None
    return f"{network}:{bare}" if network else bare


def split_network(h: str) -> tuple[str | None, str]:
    """'x:jbrown' -> ('x', 'jbrown'); 'jbrown' -> (None, 'jbrown')."""
    net, _, rest = h.partition(":")
    return (net, rest) if rest else (None, h)


def account_key(handle: str, known: str) -> str:
    """The handle as a verified-handle edge proves it: qualified when both sides name the same
    network (one account), bare when either side does not say (the handle may be someone else's
    on another network)."""
    return handle if handle in known.split("|") and split_network(handle)[0] else split_network(handle)[1]


def same_account(handle: str, known: str) -> bool:
    """Whether a contact's handle is one of a citizen's verified handles ('|'-joined, qualified).

    The handles must agree and so must their networks, unless one side does not say its network.
    """
    net, bare = split_network(handle)
    for k in known.split("|"):
        k_net, k_bare = split_network(k)
        if k_bare == bare and (net is None or k_net is None or net == k_net):
            return True
    return False


_REGISTER_FORENAMES: set[str] = set()
_REGISTER_SURNAMES: set[str] = set()


def set_register_lexicon(forenames, surnames) -> None:
    """Teach the decomposer the register's own names (most UK forenames and all its surnames).

    Without this, the nickname list (US-centric) misses names like 'alfie', and run-together
    surnames are cut by a dictionary segmenter. Clears the decomposition caches when it changes.
    """
    f = {x for x in forenames if isinstance(x, str) and len(x) >= 3 and x.isalpha()}
    s = {x for x in surnames if isinstance(x, str) and len(x) >= 3 and x.isalpha()}
    if f == _REGISTER_FORENAMES and s == _REGISTER_SURNAMES:
        return
    _REGISTER_FORENAMES.clear()
    _REGISTER_FORENAMES.update(f)
    _REGISTER_SURNAMES.clear()
    _REGISTER_SURNAMES.update(s)
    segment_letters.cache_clear()
    decompose.cache_clear()


def is_forename(tok: str) -> bool:
    return tok in forename_lexicon() or tok in _REGISTER_FORENAMES


def is_surname(tok: str) -> bool:
    return tok in _REGISTER_SURNAMES


@lru_cache(maxsize=1)
def _segmenter():
    """wordsegment loads ~0.6 s of unigram data: do it once, and only if a handle needs it."""
    import wordsegment

    wordsegment.load()
    return wordsegment.segment


def split_raw(handle: str) -> list[str]:
    """Separators, camelCase and digit runs: 'Betty_BooSmith52' -> Betty, Boo, Smith, 52."""
    parts: list[str] = []
    for chunk in _SEPARATORS.split(handle.strip().lstrip("@")):
        parts.extend(_CAMEL.findall(chunk))
    return parts


@lru_cache(maxsize=500_000)
def segment_letters(run: str) -> tuple[str, ...]:
    """Split run-together lower-case letters into name-like tokens.

    Tries, in order: the run is a name; forename + known surname; forename + anything (the
    tail is a surname or its prefix; a 2-letter tail is implausible: 'leeds' is not lee+ds);
    initial + known surname ('jsmith'); known surname + forename; filler + rest
    ('therealjane'); then the `wordsegment` dictionary segmenter.
    """
    if len(run) <= MIN_FORENAME_PREFIX or is_forename(run) or is_surname(run) or run in FILLERS:
        return (run,)
    cuts = range(len(run) - 1, MIN_FORENAME_PREFIX - 1, -1)  # longest forename first
    for cut in cuts:
        if is_forename(run[:cut]) and is_surname(run[cut:]):
            return (run[:cut], run[cut:])
    for cut in cuts:
        head, tail = run[:cut], run[cut:]
        if is_forename(head) and len(tail) != 2:
            return (head, tail)
    if is_surname(run[1:]):
        return (run[0], run[1:])
    for cut in range(MIN_FORENAME_PREFIX, len(run) - 1):
        if is_surname(run[:cut]) and is_forename(run[cut:]):
            return (run[:cut], run[cut:])
    for cut in range(1, len(run) - MIN_FORENAME_PREFIX + 1):
        head, tail = run[:cut], run[cut:]
        if head in FILLERS and len(tail) > MIN_FORENAME_PREFIX:
            return (head, *segment_letters(tail))
    if len(run) < 5:
        return (run,)
    return tuple(_segmenter()(run)) or (run,)


def tokens_of(handle: str) -> list[str]:
    """Tokens of a handle; a letter part is segmented only if it is long or stands alone,
    since parts the writer already separated ('kate.o.neill') are words as written."""
    out: list[str] = []
    parts = split_raw(handle)
    n_letter_parts = sum(1 for p in parts if not p.isdigit())
    for part in parts:
        low = fold(part)
        if not low:
            continue
        if low.isdigit():
            out.append(low)
        elif part.isupper() and 1 < len(part) <= 3 and len(split_raw(handle)) > 1:
            out.extend(low)  # 'JB' in 'JBSmith' reads as initials
        elif (n_letter_parts == 1 or len(low) >= 8) and not is_surname(low):
            out.extend(segment_letters(low))
        else:
            out.append(low)
    return out


@lru_cache(maxsize=500_000)
def decompose(handle: str) -> HandleParts:
    """Tag each token and pull out forename, surname candidates, initials and birth years.

    The forename is the first name-list token not right after an initial ('j.smith' is an
    initial and a surname); a token that is also a register surname yields to a later one that
    is only a forename ('smith_alfie').
    """
    toks = tokens_of(handle)
    candidates = [i for i, t in enumerate(toks) if len(t) > 1 and t not in FILLERS and not t.isdigit()
                  and is_forename(t) and not (i > 0 and len(toks[i - 1]) == 1 and toks[i - 1].isalpha())]
    pure = [i for i in candidates if not is_surname(toks[i])]
    chosen = pure[0] if pure else (candidates[0] if candidates else None)
    tags: list[str] = []
    surnames: list[str] = []
    initials: list[str] = []
    years: list[int] = []
    for i, tok in enumerate(toks):
        if tok.isdigit():
            ys = year_candidates(tok)
            tags.append("year" if ys else "filler")
            years.extend(ys)
        elif tok in FILLERS:
            tags.append("filler")
        elif len(tok) == 1:
            tags.append("initial")
            initials.append(tok)
        elif i == chosen:
            tags.append("forename")
        elif chosen is not None and (tok == toks[chosen] or canonical(tok) == canonical(toks[chosen])):
            tags.append("forename")  # said twice (handle and display name): not a surname
        else:
            tags.append("surname")
            surnames.append(tok)
    forename = toks[chosen] if chosen is not None else None
    return HandleParts(tuple(toks), tuple(tags), forename, tuple(surnames), tuple(initials), tuple(years))
