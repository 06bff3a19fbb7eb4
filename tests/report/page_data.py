"""Reading a built report page the way its script does: the page's dictionary and every view's data, from the
JSON embedded in `<script type="application/json">` elements."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

META = re.compile(r"<script type='application/json' id='report-meta'>(.*?)</script>", re.S)
VIEWS = re.compile(r"<script type='application/json' id='report-views'>(.*?)</script>", re.S)


def meta(html: str) -> dict:
    return json.loads(META.search(html).group(1))


def views(html: str) -> dict[str, dict]:
    return json.loads(VIEWS.search(html).group(1))


def walk(value: object, path: str = "") -> Iterator[tuple[str, object]]:
    """Every leaf of a view's data with its path ("sankey.collapsed.links.0.2")."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}.{i}")
    else:
        yield path, value
