"""Screenshots of the report for the docs, re-made by one command (headless Chromium over DevTools):

    python -m joinedup.report.screenshots demo/analytics/joinedup_analytics.duckdb --out docs/img/report
    make screenshots

Builds the report from the analytics file into a temporary folder and captures three PNGs: the top of the page
(default view), a filtered view (the largest service, the last whole month, with its comparison), and the page
as printed (print media: controls hidden, every numbers table open). 1200 CSS pixels wide, scaled down so each
stays small enough to commit.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from joinedup.report.build import build_report
from joinedup.report.chromium import Page, find_chromium, open_page

WIDTH = 1200
SHOTS = ("report-top.png", "report-filtered.png", "report-print.png")


def select(page: Page, service: str, period: str) -> None:
    """Pick a view with the page's own filters, as a reader does (a change event on each select)."""
    page.evaluate(f"""(() => {{
        for (const [id, value] of [['filter-service', {json.dumps(service)}], ['filter-period', {json.dumps(period)}]]) {{
            const el = document.getElementById(id);
            el.value = value;
            el.dispatchEvent(new Event('change'));
        }}
    }})()""")
    page.pump(1.0)


def filtered_view(page: Page) -> tuple[str, str]:
    """The largest service (first in the repeat chart's order) and the last whole month (else the last month)."""
    return page.evaluate("""(() => {
        const meta = JSON.parse(document.getElementById('report-meta').textContent);
        const views = JSON.parse(document.getElementById('report-views').textContent);
        const months = meta.periods.filter(p => p.kind === 'month');
        const whole = months.filter(p => !p.note);
        const month = (whole.length ? whole : months).slice(-1)[0] || meta.periods[0];
        const service = views['*|all'].repeat.services[0] || '*';
        return [service, month.id];
    })()""")


def capture(report: Path, out: Path, chromium: str, scale: float = 0.75) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in SHOTS]
    with open_page(report.as_uri(), chromium, width=WIDTH, height=900) as page:
        page.pump(1.5)
        page.screenshot(paths[0], (0, 0, WIDTH, 1500), scale)
        service, period = filtered_view(page)
        select(page, service, period)
        page.screenshot(paths[1], (0, 0, WIDTH, 1500), scale)
        select(page, "*", "all")
        page.call("Emulation.setEmulatedMedia", media="print")
        page.pump(1.0)
        top = page.evaluate("document.getElementById('section-repeat').getBoundingClientRect().top + scrollY")
        page.screenshot(paths[2], (0, top, WIDTH, 1500), scale)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("analytics", type=Path, help="the published analytics DuckDB file")
    ap.add_argument("--out", type=Path, default=Path("docs/img/report"))
    args = ap.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        ap.error("no Chromium on PATH (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="joinedup-screenshots-") as tmp:
        report = build_report(args.analytics, Path(tmp))
        for path in capture(report, args.out, chromium):
            print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
