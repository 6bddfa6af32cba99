"""Write generator/sources/data/nyse_closed.txt: the NYSE weekdays without a session, named, and the
early closes (exchange_calendars).

    python scripts/make_nyse_calendar.py [--last-year 2030]

The build reads this table instead of building exchange_calendars' XNYS calendar in every process
(that costs a few tenths of a second); days outside the table still go to exchange_calendars.
tests/test_calendar.py checks the table against exchange_calendars, so it cannot drift silently:
rerun this script when exchange_calendars is upgraded or an ad-hoc closure is announced.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.sources.calendar import TABLE_PATH, market_days_from_exchange_calendars  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--first-year", type=int, default=1970)
    parser.add_argument("--last-year", type=int, default=2030)
    args = parser.parse_args(argv)
    import exchange_calendars

    first, last = date(args.first_year, 1, 1), date(args.last_year, 12, 31)
    days = market_days_from_exchange_calendars(first, last)
    lines = [
        f'# NYSE weekdays without a session (with the holiday\'s name), and early closes ("early", the'
        f" day, the close in New York), {first.isoformat()} to {last.isoformat()}:"
        f" exchange_calendars {exchange_calendars.__version__} (XNYS).",
        "# Regenerate with: python scripts/make_nyse_calendar.py",
        f"# range {first.isoformat()} {last.isoformat()}",
        *(f"{d.day} {d.reason}".strip() if d.closed else f"early {d.day} {d.close_et}" for d in days),
    ]
    TABLE_PATH.write_text("\n".join(lines) + "\n", encoding="ascii")
    closed = sum(d.closed for d in days)
    print(f"wrote {TABLE_PATH} ({closed} closed days, {len(days) - closed} early closes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
