"""The sample's index view, member fundamentals, FRED series, calendar and earnings: deterministic,
synthetic, labelled sample.

Used by scripts/make_sample.py.  The membership is written in the real iShares holdings layout,
quirks included (a byte-order mark, the preamble, quoted numbers with thousands separators, a cash
row, a futures row, an untradable "-" row, a duplicate listing, a class share written without its
separator, the legal notice at the end), then parsed by the real parser; member prices are drawn
from the sample's own index and sector paths; the breadth view is derived by the real code, and
so are the members' fundamentals, from synthetic screener quotes.
Every name is fictional.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from generator.analysis.fundamentals import MemberQuote, aggregate
from generator.models import EarningsWeek, IndexView, MemberFundamentals, ScheduledEvent, Series
from generator.sources.earnings import PAGE_URL, CalendarRead, first_per_symbol, page_rows, select
from generator.sources.ishares import Member, Membership, parse_holdings
from generator.sources.members import derive_index_view

SECTORS = {  # sector → (sample sector ETF whose path members follow, name stems)
    "Financials": (
        "PSCF",
        ("Harbor Point Bancorp", "Prairie State Financial", "Keystone Lending", "Tidewater Trust"),
    ),
    "Industrials": (
        "PSCI",
        ("Ridgeline Machining", "Bolt & Gear Works", "Summit Freight", "Ironbridge Controls"),
    ),
    "Health Care": (
        "PSCH",
        ("Lumen Vale Therapeutics", "Clearwater Diagnostics", "Northfield Medical", "Bayside Bio"),
    ),
    "Information Technology": (
        "PSCT",
        ("Quartzline Systems", "Signal Crest Software", "Arcwise Devices", "Nimbus Data"),
    ),
    "Consumer Discretionary": (
        "PSCD",
        ("Trailhead Outfitters", "Copper Kettle Dining", "Maple Lane Homes", "Driftwood Apparel"),
    ),
    "Energy": ("PSCE", ("Red Mesa Energy", "Gulfstream Midstream", "Basin Drilling", "Cinder Ridge Oil")),
    "Materials": (
        "PSCM",
        ("Granite Peak Materials", "Bluewater Chemicals", "Forge Alloys", "Timberline Paper"),
    ),
    "Consumer Staples": (
        "PSCC",
        ("Orchard Foods", "Silver Spoon Grocers", "Brightleaf Brands", "Hearth Bakeries"),
    ),
    "Real Estate": (
        "PSCF",
        ("Cornerstone Realty", "Lakeshore Storage", "Meridian Office Trust", "Pinecrest REIT"),
    ),
    "Utilities": ("PSCU", ("Valley Water Works", "Northwind Power", "Crescent Gas", "Evergreen Electric")),
    "Communication": (
        "PSCU",
        ("Beacon Broadcasting", "Fiberline Networks", "Pressroom Media", "Wavecrest Telecom"),
    ),
}
SUFFIXES = ("", " Holdings", " Group", " Inc")
SESSIONS = 300  # a year of 52-week highs and lows and 200-day averages, and some lead-in
HOLDINGS_AS_OF = date(2026, 11, 18)  # the file a few days older than the week's last close, as in life


def _members(rng: np.random.Generator) -> list[tuple[str, str, str, float]]:
    out = []
    n = 0
    for sector, (_, stems) in SECTORS.items():
        for stem in stems:
            for suffix in SUFFIXES[:3]:
                n += 1
                ticker = f"S{chr(65 + n // 26 % 26)}{chr(65 + n % 26)}{chr(65 + (n * 7) % 26)}"
                out.append((ticker, f"{stem}{suffix}".upper(), sector, float(rng.lognormal(0.0, 0.6))))
    total = sum(w for *_, w in out)
    return [(t, name, sector, w / total * 99.0) for t, name, sector, w in out]


def holdings_csv(rng: np.random.Generator) -> bytes:
    """A synthetic IWM holdings file in the real layout, quirks included."""
    members = _members(rng)
    members[0] = ("MOGA", "SAMPLE MOTION CONTROLS CLASS A", members[0][2], members[0][3])  # class share
    rows = [
        "\ufeffiShares Russell 2000 ETF",
        f'Fund Holdings as of,"{HOLDINGS_AS_OF.strftime("%b %d, %Y")}"',
        'Inception Date,"May 22, 2000"',
        'Shares Outstanding,"281,400,000.00"',
        'Stock,"-"', 'Bond,"-"', 'Cash,"-"', 'Other,"-"', " ",
        "Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price,Location,"
        "Exchange,Currency,FX Rate,Market Currency,Accrual Date",
    ]  # fmt: skip
    fund = 68_000_000_000.0
    for ticker, name, sector, weight in members:
        value, price = fund * weight / 100.0, float(rng.uniform(8, 120))
        rows.append(
            f'"{ticker}","{name}","{sector}","Equity","{value:,.2f}","{weight:.2f}","{value:,.2f}",'
            f'"{value / price:,.2f}","{price:.2f}","United States","NASDAQ","USD","1.00","USD","-"'
        )
    rows += [
        f'"{members[1][0]}","{members[1][1]}","{members[1][2]}","Equity","1.00","0.00","1.00","1.00","1.00",'
        '"United States","NASDAQ","USD","1.00","USD","-"',  # a duplicate listing
        '"XTSLA","BLK CSH FND TREASURY SL AGENCY","Cash and/or Derivatives","Money Market","680,000,000.00",'
        '"1.00","680,000,000.00","680,000,000.00","1.00","United States","-","USD","1.00","USD","-"',
        '"RTYZ6","RUSSELL 2000 EMINI DEC 26","Cash and/or Derivatives","Futures","0.00","0.00",'
        '"250,000,000.00","1,000.00","2,500.00","United States","Chicago Mercantile Exchange",'
        '"USD","1.00","USD","-"',
        '"-","SAMPLE ESCROW RIGHTS","Health Care","Equity","0.00","0.00","0.00","1,000.00","0.00",'
        '"United States","NO MARKET (E.G. UNLISTED)","USD","1.00","USD","-"',
        " ",
        '"The content contained herein is illustrative sample data, written for this project.',
        "It stands in for the issuer's multi-line legal notice.",
        'Holdings subject to change."',
    ]  # fmt: skip
    return ("\n".join(rows) + "\n").encode("utf-8")


def index_view(
    frames: dict[str, pd.DataFrame], rng: np.random.Generator, week: tuple[date, date]
) -> IndexView:
    """The sample's members priced along the sample's own index and sector paths, then derived."""
    membership = parse_holdings(holdings_csv(rng), source="iShares IWM holdings (sample)")
    rut = frames["^RUT"]["Close"].iloc[-SESSIONS:]
    index_ret = np.log(rut).diff().fillna(0.0).to_numpy()
    panel = {}
    for m in membership.members:
        etf = SECTORS.get(m.sector, ("PSCF",))[0]
        sector = frames[etf]["Close"].reindex(rut.index).ffill() if etf in frames else rut
        sector_ret = np.log(sector).diff().fillna(0.0).to_numpy()
        beta = rng.uniform(0.6, 1.5)
        noise = rng.normal(0.0, rng.uniform(0.008, 0.025), len(rut))
        path = 0.4 * beta * index_ret + 0.6 * sector_ret + noise
        panel[m.yahoo_symbol] = rng.uniform(10, 90) * np.exp(np.cumsum(path))
    closes = pd.DataFrame(panel, index=rut.index).round(4)
    # Two members have no prices (not fetched), as in a real run.
    closes = closes.drop(columns=list(closes.columns[-2:]))
    return derive_index_view(membership, closes, *week, provider="sample (illustrative, not market data)")


LOSS_ODDS = {"Health Care": 0.65, "Information Technology": 0.4, "Energy": 0.3, "Financials": 0.1}
FUNDAMENTALS_AS_OF = date(2026, 11, 2)  # the monthly refresh, earlier in the month
INDEX_MARKET_VALUE = 3.1e12  # dollars: what the members are worth together (illustrative)


def fundamentals(view: IndexView, rng: np.random.Generator, source: str) -> MemberFundamentals:
    """Synthetic screener quotes for the sample's members, summed by the real code.

    A member's market value follows its weight; it loses money with its sector's odds (25% where
    not listed), its earnings yield drawn for profits or losses; the two members without prices
    are not in the screen either.
    """
    quotes = {}
    for symbol, member in view.members.iterrows():
        price = float(member["last_close"])
        if not np.isfinite(price):
            continue
        loses = rng.random() < LOSS_ODDS.get(str(member["sector"]), 0.25)
        earnings_yield = -rng.uniform(0.01, 0.08) if loses else rng.lognormal(np.log(0.065), 0.35)
        cap = float(member["weight"]) / 100.0 * INDEX_MARKET_VALUE
        quotes[str(symbol)] = MemberQuote(round(cap, -3), round(earnings_yield * price, 2), price)
    return aggregate(
        list(view.members.index), quotes, as_of=FUNDAMENTALS_AS_OF,
        membership_as_of=view.membership_as_of, source=source,
    )  # fmt: skip


def fred_series(frames: dict[str, pd.DataFrame], provider: str, built_at: object) -> dict[str, Series]:
    """FRED-style series one day behind the sample's Yahoo yields (FRED publishes a day late)."""
    ten = frames["^TNX"]["Close"]
    three = frames["^IRX"]["Close"]
    days = ten.index[:-1]
    two = (three + (ten - three) * 0.35).round(2)
    oas = (3.1 + (ten - ten.rolling(60, min_periods=1).mean()) * 0.8 - (ten.diff(5).fillna(0.0) * 2)).round(2)
    values = {
        "FRED-DGS10": ten.round(2),
        "FRED-DGS2": two,
        "FRED-DGS3MO": three.round(2),
        "FRED-T10Y2Y": (ten.round(2) - two).round(2),
        "FRED-BAMLH0A0HYM2": oas,
    }
    out = {}
    for symbol, col in values.items():
        close = col.loc[days]
        frame = pd.DataFrame({"Open": close, "High": close, "Low": close, "Close": close, "Volume": 0.0})
        out[symbol] = Series(symbol, frame.rename_axis("Date"), provider, "sample", built_at)  # type: ignore[arg-type]
    return out


def calendar(week_end: date) -> tuple[ScheduledEvent, ...]:
    """The next week's official releases, as the sample's calendar sources would list them."""
    fed = "https://www.federalreserve.gov/newsevents/calendar.htm"
    bea = "https://www.bea.gov/news/schedule"
    bls = "https://www.bls.gov/schedule/news_release/"
    ftse = "https://www.lseg.com/en/ftse-russell/russell-reconstitution"
    return (
        ScheduledEvent(date(2026, 11, 24), "Employment Situation (sample date)", "BLS", bls, "08:30"),
        ScheduledEvent(date(2026, 11, 25), "GDP, second estimate (sample date)", "BEA", bea, "08:30"),
        ScheduledEvent(date(2026, 11, 25), "FOMC minutes (sample date)", "Federal Reserve", fed, "14:00"),
        ScheduledEvent(
            date(2026, 11, 27), "Russell reconstitution: rank day (sample date)", "FTSE Russell", ftse
        ),
    )


EARNINGS_REPORTING = 23  # sample members with a report dated next week
EARNINGS_DAYS = (0, 1, 2, 4)  # Monday, Tuesday, Wednesday and Friday: the Thursday is Thanksgiving


def earnings(view: IndexView, rng: np.random.Generator, built_at: datetime, top: int = 10) -> EarningsWeek:
    """Next week's earnings of the sample's members, in the calendar's own layout, read by the real code.

    Besides the members' rows the page holds what the provider must leave out: a company that is
    not a member, a member's second event of the week, a report dated the week after, a row
    without a date.  Every link goes to the calendar's page for the day: the tickers are fictional.
    """
    start = view.week_start + timedelta(days=7)
    end = start + timedelta(days=4)
    symbols = sorted(view.members.index)
    chosen = rng.choice(len(symbols), EARNINGS_REPORTING, replace=False)
    rows = []
    for n in sorted(chosen):
        symbol = symbols[n]
        day = start + timedelta(days=int(rng.choice(EARNINGS_DAYS)))
        name = str(view.members.at[symbol, "name"]).title()
        timing = str(rng.choice(["BMO", "AMC", "AMC", "TNS"]))
        rows.append((symbol, name, _stamp(day, timing), timing))
    first = rows[0]
    rows += [
        ("SMPLX", "Sample Large Cap Corp", _stamp(start, "BMO"), "BMO"),  # not a member
        (first[0], first[1], _stamp(end, "AMC"), "AMC"),  # the call after the release
        (symbols[-1], "Later Sample Co", _stamp(end + timedelta(days=3), "BMO"), "BMO"),  # the week after
        (symbols[-2], "Undated Sample Co", None, "TNS"),  # no date
    ]
    frame = pd.DataFrame(rows, columns=["Symbol", "Company", "Event Start Date", "Timing"])
    kept, _ = page_rows(frame, start, end)
    read = CalendarRead(start, end, first_per_symbol(kept), built_at, pages=1)
    membership = Membership(
        view.membership_as_of,
        tuple(
            Member(str(sym), str(sym), str(row["name"]), str(row["sector"]), float(row["weight"]))
            for sym, row in view.members.iterrows()
        ),
        source=view.source,
    )
    week = select(read, membership, top, origin="sample", source="sample calendar")
    linked = tuple(replace(r, url=f"{PAGE_URL}?day={r.day.isoformat()}") for r in week.largest)
    return replace(week, largest=linked)


STAMPS = {"BMO": (13, 0), "AMC": (21, 5), "TNS": (5, 0)}  # UTC: 08:00, 16:05 and midnight in New York


def _stamp(day: date, timing: str) -> str:
    """The calendar's date-time for a report on ``day`` (New York, November: UTC-5)."""
    hour, minute = STAMPS[timing]
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).isoformat().replace("+00:00", "Z")
