"""Write the bundled sample snapshot to generator/sources/sample/ (deterministic; no clock, fixed seed).

    python scripts/make_sample.py [--config feeds.yaml] [--out generator/sources/sample]

The prices are synthetic: correlated daily log-returns from a factor model (market, size, value, tech,
sector and rate factors), rescaled to plausible levels.  The last weeks are scripted so the brief has
something to say: small caps out-run large caps for a multi-day streak and the Russell 2000 closes
the week at a record.  The headlines are written by hand and are fictional.  None of it is market data.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import yaml
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    GoodFriday,
    Holiday,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
    sunday_to_monday,
)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from generator.models import FeedCapture, Series, Snapshot, SourceHealth  # noqa: E402
from generator.sources.snapshot import SAMPLE_DIR, SAMPLE_NOTE, SAMPLE_PROVIDER, write_snapshot  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sample_extras  # noqa: E402  (scripts/sample_extras.py)

log = logging.getLogger("make_sample")

SEED = 20261120
START = date(2022, 11, 1)
AS_OF = date(2026, 11, 20)  # a Friday
BUILT_AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
VALUATION = {
    "IWM": {"trailingPE": 17.8, "priceToBook": 2.05},
    "IJR": {"trailingPE": 16.1, "priceToBook": 1.9},
    "SPY": {"trailingPE": 27.4, "priceToBook": 5.2},
}
VALUATION_READ = date(2026, 11, 21)  # as a live build on the Saturday would have read them
NOTES = (
    SAMPLE_NOTE,
    "The fund ratios, the members' earnings and the headlines are made up for the sample; links point to"
    " example.com.",
)
STORY = 15  # scripted final sessions
STREAK = 7  # of which the last STREAK are small-cap out-performance days


class _NyseHolidays(AbstractHolidayCalendar):
    rules = [  # noqa: RUF012
        Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday),
        USMartinLutherKingJr,
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday("Juneteenth", month=6, day=19, observance=nearest_workday),
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
        Holiday("Christmas Day", month=12, day=25, observance=nearest_workday),
    ]


def trading_days(start: date = START, end: date = AS_OF) -> pd.DatetimeIndex:
    holidays = [*_NyseHolidays().holidays(start, end), pd.Timestamp("2025-01-09")]  # + a day of mourning
    return pd.DatetimeIndex(pd.bdate_range(start, end, freq="C", holidays=holidays), name="Date")


# --------------------------------------------------------------------------- the instruments


@dataclass(frozen=True)
class Equity:
    start: float  # level on the first day
    end: float  # level on AS_OF
    mkt: float  # loadings on the factors
    size: float = 0.0
    value: float = 0.0
    tech: float = 0.0
    sector: str = ""
    rates: float = 0.0  # return per 1 percentage point rise of the 10-year yield
    idio: float = 0.001  # daily idiosyncratic volatility
    volume: float = 0.0  # typical daily volume


EQUITIES: dict[str, Equity] = {
    "^GSPC": Equity(3870, 6700, 1.00, tech=0.25, idio=0.0008, volume=4.6e9),
    "^IXIC": Equity(10900, 22000, 1.15, value=-0.2, tech=0.9, idio=0.0012, volume=8.8e9),
    "^RUI": Equity(2130, 3700, 1.00, size=0.08, tech=0.22, idio=0.0006, volume=4.9e9),
    "RSP": Equity(145, 195, 0.92, size=0.35, value=0.25, idio=0.0010, volume=8e6),
    "OEF": Equity(180, 330, 1.03, size=-0.15, value=-0.05, tech=0.35, idio=0.0008, volume=1.1e6),
    "IWR": Equity(68, 96, 0.98, size=0.5, value=0.15, tech=0.05, idio=0.0012, volume=1.6e6),
    "^RUT": Equity(1850, 2430, 1.08, size=1.0, tech=0.1, rates=-0.012, idio=0.0010, volume=5.1e9),
    "^SP600": Equity(1230, 1480, 1.04, size=0.95, value=0.2, rates=-0.012, idio=0.0012, volume=1.9e9),
    "IWC": Equity(115, 150, 1.12, size=1.35, value=-0.1, rates=-0.015, idio=0.0035, volume=6.5e4),
    "IWN": Equity(140, 178, 1.06, size=1.0, value=0.5, rates=-0.01, idio=0.0012, volume=1.6e6),
    "IWO": Equity(225, 320, 1.10, size=1.0, value=-0.5, tech=0.2, rates=-0.014, idio=0.0014, volume=8e5),
    "PSCT": Equity(36, 55, 1.15, size=0.9, tech=0.5, sector="tech", idio=0.004, volume=3e4),
    "PSCH": Equity(43, 46, 0.85, size=0.9, sector="health", idio=0.004, volume=2e4),
    "PSCF": Equity(52, 58, 1.00, size=0.9, value=0.4, sector="fin", rates=0.01, idio=0.003, volume=1.5e4),
    "PSCI": Equity(90, 140, 1.05, size=0.9, value=0.2, sector="ind", idio=0.003, volume=1.5e4),
    "PSCD": Equity(85, 112, 1.15, size=0.95, sector="disc", idio=0.004, volume=1.2e4),
    "PSCC": Equity(36, 34, 0.65, size=0.7, value=0.2, sector="staples", idio=0.004, volume=8e3),
    "PSCE": Equity(48, 44, 0.95, size=0.8, value=0.5, sector="energy", idio=0.006, volume=6e4),
    "PSCM": Equity(70, 82, 1.05, size=0.9, value=0.3, sector="materials", idio=0.004, volume=1e4),
    "PSCU": Equity(60, 66, 0.70, size=0.7, sector="util", rates=-0.02, idio=0.004, volume=1e4),
    "KRE": Equity(66, 64, 1.05, size=0.8, value=0.6, sector="banks", rates=0.02, idio=0.004, volume=1.2e7),
    "HYG": Equity(75, 80, 0.22, size=0.05, rates=-0.035, idio=0.0018, volume=3.5e7),
    "IEF": Equity(95, 96, -0.02, rates=-0.072, idio=0.0012, volume=8e6),
}
TRACKERS = {"IWM": ("^RUT", 0.0002, 3.2e7), "IJR": ("^SP600", 0.0003, 5e6), "IWB": ("^RUI", 0.0002, 1.2e6)}
SECTOR_VOL = {"tech": 0.006, "health": 0.006, "fin": 0.005, "ind": 0.004, "disc": 0.005, "staples": 0.004,
              "energy": 0.009, "materials": 0.005, "util": 0.004, "banks": 0.005}  # fmt: skip

# (date, level) anchors; the path between anchors is a pinned random walk.
RATE_ANCHORS: dict[str, list[tuple[str, float]]] = {
    "^IRX": [("2022-11-01", 4.05), ("2023-07-28", 5.28), ("2024-07-31", 5.20), ("2024-12-20", 4.25),
             ("2025-08-29", 4.15), ("2026-01-30", 3.62), ("2026-06-30", 3.78), ("2026-11-13", 3.97),
             ("2026-11-20", 3.90)],
    "^TNX": [("2022-11-01", 4.05), ("2023-04-05", 3.30), ("2023-10-19", 4.98), ("2023-12-27", 3.79),
             ("2024-04-25", 4.70), ("2024-09-16", 3.62), ("2025-01-13", 4.79), ("2025-09-16", 4.03),
             ("2026-03-31", 4.38), ("2026-11-13", 4.24), ("2026-11-20", 4.10)],
}  # fmt: skip
SPREADS = {  # spread over ^TNX in percentage points
    "^FVX": [("2022-11-01", 0.20), ("2023-07-28", 0.30), ("2024-09-16", -0.15), ("2025-06-30", -0.35),
             ("2026-11-20", -0.30)],
    "^TYX": [("2022-11-01", 0.10), ("2023-07-28", -0.10), ("2024-09-16", 0.30), ("2025-06-30", 0.55),
             ("2026-11-20", 0.50)],
}  # fmt: skip
# Stress episodes: (first day, sessions, market shock in sd per day, vol shock, size, banks)
EPISODES = [
    ("2023-03-08", 6, -0.8, 0.15, -0.004, -0.035),
    ("2024-07-31", 4, -1.0, 0.25, -0.006, -0.004),
    ("2025-03-28", 7, -1.2, 0.18, -0.003, -0.006),
    ("2026-03-16", 6, -0.8, 0.12, -0.002, -0.003),
]
BASE_VOL = 0.0078  # the market's typical daily volatility
# Where the market (as S&P 500 levels) and the size factor (cumulative log return of small vs large)
# stand on a few dates; the paths between are random.  The last anchor is the eve of the scripted story.
MARKET_ANCHORS: list[tuple[str, float]] = [
    ("2022-11-01", 3870), ("2022-12-30", 3840), ("2023-02-02", 4180), ("2023-03-15", 3870),
    ("2023-05-31", 4180), ("2023-07-31", 4590), ("2023-10-27", 4120), ("2023-12-29", 4770),
    ("2024-03-28", 5250), ("2024-04-19", 4970), ("2024-07-16", 5670), ("2024-08-05", 5190),
    ("2024-10-31", 5700), ("2024-12-06", 6090), ("2025-02-19", 6140), ("2025-04-08", 4980),
    ("2025-06-30", 6200), ("2025-08-29", 6150), ("2025-11-20", 6200), ("2026-01-30", 6450),
    ("2026-03-24", 6020), ("2026-06-30", 6380), ("2026-09-30", 6480), ("2026-10-30", 6560),
]  # fmt: skip
SIZE_ANCHORS: list[tuple[str, float]] = [
    ("2022-11-01", 0.0), ("2023-02-02", 0.04), ("2023-03-15", -0.04), ("2023-07-31", -0.06),
    ("2023-10-27", -0.16), ("2023-12-29", -0.08), ("2024-04-19", -0.15), ("2024-07-16", -0.19),
    ("2024-07-31", -0.16), ("2024-12-06", -0.29), ("2025-04-08", -0.33), ("2025-08-29", -0.30),
    ("2025-11-20", -0.33), ("2026-03-24", -0.36), ("2026-06-30", -0.35), ("2026-10-30", -0.36),
]  # fmt: skip
# The scripted last sessions, in percent: market, size, value, banks, energy.
STORY_MKT = [0.30, -0.50, 0.40, -0.35, 0.60, -0.30, 0.40, 0.10, 0.30, -0.60, 0.35, 0.15, 0.40, -0.25, 0.30]
STORY_SIZE = [0.10, -0.30, 0.20, -0.20, -0.10, 0.05, 0.20, -0.55, 0.60, 0.30, 0.55, 0.40, 0.60, 0.35, 0.50]
STORY_VALUE = [0.0] * 10 + [0.20, 0.15, 0.25, 0.10, 0.20]
STORY_BANKS = [0.0] * 10 + [0.60, 0.40, 0.70, 0.30, 0.50]
STORY_ENERGY = [0.0] * 10 + [-0.50, -0.40, -0.60, -0.20, -0.40]


# --------------------------------------------------------------------------- factor model


def _factors(days: pd.DatetimeIndex, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(days)
    z = rng.standard_normal(n)
    eps = -0.75 * z + 0.66 * rng.standard_normal(n)  # volatility rises when the market falls
    shock_z, shock_h, size, banks = np.zeros(n), np.zeros(n), 0.0045 * rng.standard_normal(n), np.zeros(n)
    for first, length, dz, dh, dsize, dbanks in EPISODES:
        i = int(days.searchsorted(pd.Timestamp(first)))
        shock_z[i : i + length] += dz
        shock_h[i] += dh * length / 2
        size[i : i + length] += dsize
        banks[i : i + length] += dbanks
    h = np.zeros(n + 1)  # h[t]: log volatility of day t; h[t + 1] is known at day t's close
    for t in range(1, n + 1):
        h[t] = 0.96 * h[t - 1] + 0.06 * eps[t - 1] + (shock_h[t] if t < n else 0.0)
    sigma = BASE_VOL * np.exp(h[:n])
    out = {"mkt": _anchored(days, sigma * (z + shock_z), MARKET_ANCHORS, math.log(3870)),
           "size": _anchored(days, size, SIZE_ANCHORS, 0.0), "sigma": sigma, "h_next": h[1:],
           "value": 0.0035 * rng.standard_normal(n), "tech": 0.005 * rng.standard_normal(n)}  # fmt: skip
    for name, vol in SECTOR_VOL.items():
        out[name] = vol * rng.standard_normal(n)
    out["banks"] = out["banks"] + 0.8 * out["fin"] + banks
    out["fin"] = out["fin"] + 0.5 * banks
    _script_story(out)
    return out


def _anchored(
    days: pd.DatetimeIndex, r: np.ndarray, anchors: list[tuple[str, float]], base: float
) -> np.ndarray:
    """Daily returns whose running sum passes through the anchors (log levels minus ``base``)."""
    idx = np.array([days.searchsorted(pd.Timestamp(d)) for d, _ in anchors])
    target = np.array([(math.log(v) if base else v) - base for _, v in anchors])
    level = np.cumsum(np.concatenate([[0.0], r[1:]]))
    level = level + np.interp(np.arange(len(r)), idx, target - level[idx])
    return np.diff(level, prepend=0.0)


def _script_story(f: dict[str, np.ndarray]) -> None:
    tail = slice(-STORY, None)
    f["mkt"][tail] = np.array(STORY_MKT) / 100
    f["size"][tail] = np.array(STORY_SIZE) / 100
    f["value"][tail] = np.array(STORY_VALUE) / 100 + f["value"][tail] * 0.2
    f["banks"][tail] = np.array(STORY_BANKS) / 100 + f["banks"][tail] * 0.2
    f["fin"][tail] = 0.6 * np.array(STORY_BANKS) / 100 + f["fin"][tail] * 0.2
    f["energy"][tail] = np.array(STORY_ENERGY) / 100 + f["energy"][tail] * 0.3
    settle = math.log(16 / 17.5)  # the VIX settles near 16
    f["h_next"][tail] = np.linspace(f["h_next"][-STORY - 1], settle, STORY)
    f["sigma"][tail] = BASE_VOL * np.exp(f["h_next"][tail])


def _pinned(days: pd.DatetimeIndex, anchors: list[tuple[str, float]], daily: float, common: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Interpolate the anchors and add a random walk pinned to zero at every anchor."""
    idx = np.array([days.searchsorted(pd.Timestamp(d)) for d, _ in anchors])
    levels = np.array([v for _, v in anchors])
    t = np.arange(len(days))
    walk = np.cumsum(daily * (0.5 * common + 0.87 * rng.standard_normal(len(days))))
    return np.interp(t, idx, levels) + walk - np.interp(t, idx, walk[idx])


def _rates(
    days: pd.DatetimeIndex, f: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    common = -0.7 * np.clip(f["mkt"] / BASE_VOL, -3, 3)  # yields tend to fall when stocks rise
    tnx = _pinned(days, RATE_ANCHORS["^TNX"], 0.055, common, rng)
    out = {"^IRX": _pinned(days, RATE_ANCHORS["^IRX"], 0.012, common, rng), "^TNX": tnx}
    for symbol, anchors in SPREADS.items():
        out[symbol] = tnx + _pinned(days, anchors, 0.012, np.zeros(len(days)), rng)
    return {k: np.round(v, 3) for k, v in out.items()}


def _equity_returns(
    spec: Equity, f: dict[str, np.ndarray], dy: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    r = spec.mkt * f["mkt"] + spec.size * f["size"] + spec.value * f["value"] + spec.tech * f["tech"]
    r = r + spec.rates * dy + (f[spec.sector] if spec.sector else 0.0)
    idio = spec.idio * rng.standard_normal(len(r))
    idio[-STORY:] *= 0.3
    r = r + idio
    r[0] = 0.0
    return r + (np.log(spec.end / spec.start) - r.sum()) / (len(r) - 1) * (np.arange(len(r)) > 0)


# --------------------------------------------------------------------------- bars


def _bars(close: np.ndarray, sigma: np.ndarray, rng: np.random.Generator, decimals: int) -> pd.DataFrame:
    """Open near the previous close; High/Low beyond the open-close range; all rounded consistently."""
    prev = np.concatenate([[close[0]], close[:-1]])
    opens = prev * np.exp(0.3 * sigma * rng.standard_normal(len(close)))
    c, o = np.round(close, decimals), np.round(opens, decimals)
    high = np.maximum(np.round(np.maximum(o, c) * np.exp(np.abs(0.5 * sigma * rng.standard_normal(len(c)))),
                               decimals), np.maximum(o, c))  # fmt: skip
    low = np.minimum(np.round(np.minimum(o, c) * np.exp(-np.abs(0.5 * sigma * rng.standard_normal(len(c)))),
                              decimals), np.minimum(o, c))  # fmt: skip
    return pd.DataFrame({"Open": o, "High": high, "Low": low, "Close": c})


def _volume(base: float, mkt: np.ndarray, rng: np.random.Generator, surge: float = 1.0) -> np.ndarray:
    v = base * np.exp(0.2 * rng.standard_normal(len(mkt))) * (1 + 40 * np.abs(mkt)) / 1.3
    v[-5:] *= surge
    return np.round(v)


def _vol_indices(f: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(f["h_next"])
    vix = 100 * np.sqrt(252) * BASE_VOL * np.exp(f["h_next"]) * 1.41 * np.exp(0.02 * rng.standard_normal(n))
    a = np.zeros(n)
    noise = 0.015 * rng.standard_normal(n)
    for t in range(1, n):
        a[t] = 0.9 * a[t - 1] + noise[t] - 3 * f["size"][t]
    rvx = vix * 1.28 * np.exp(a)
    # scale to the chosen last close, with a soft floor (VIX rarely trades below ~10)
    return {
        "^VIX": 9 + np.logaddexp(0, vix * 16.0 / vix[-1] - 9),
        "^RVX": 12 + np.logaddexp(0, rvx * 21.0 / rvx[-1] - 12),
    }


def _frames(days: pd.DatetimeIndex, symbols: list[str], rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    f = _factors(days, rng)
    rates = _rates(days, f, rng)
    dy = np.diff(rates["^TNX"], prepend=rates["^TNX"][0])
    frames: dict[str, pd.DataFrame] = {}
    returns = {}
    for symbol, spec in EQUITIES.items():
        returns[symbol] = _equity_returns(spec, f, dy, rng)
        close = spec.end * np.exp(np.cumsum(returns[symbol]) - returns[symbol].sum())
        surge = 1.6 if symbol in ("^RUT", "KRE") else 1.0
        frames[symbol] = _bars(close, f["sigma"] * max(spec.mkt, 0.3), rng, 2).assign(
            Volume=_volume(spec.volume, f["mkt"], rng, surge)
        )
    for symbol, (parent, noise, volume) in TRACKERS.items():
        r = returns[parent] + noise * rng.standard_normal(len(days))
        ratio = {"IWM": 0.0995, "IJR": 0.0786, "IWB": 0.0988}[symbol]
        close = EQUITIES[parent].end * ratio * np.exp(np.cumsum(r) - r.sum())
        surge = 1.6 if symbol == "IWM" else 1.0
        frames[symbol] = _bars(close, f["sigma"], rng, 2).assign(Volume=_volume(volume, f["mkt"], rng, surge))
    for symbol, level in {**rates, **_vol_indices(f, rng)}.items():
        decimals, spread = (3, 0.012) if symbol in rates else (2, 0.03)
        frames[symbol] = _bars(level, np.full(len(days), spread), rng, decimals).assign(Volume=0.0)
    missing = sorted(set(symbols) - set(frames))
    if missing:
        raise SystemExit(f"make_sample: no synthetic model for {', '.join(missing)}; add it to EQUITIES")
    for frame in frames.values():
        frame.index = days
    return {s: frames[s] for s in symbols}


def _story_holds(frames: dict[str, pd.DataFrame]) -> bool:
    rut, spx = frames["^RUT"]["Close"], frames["^GSPC"]["Close"]
    rel = (rut.pct_change() - spx.pct_change()).iloc[-STREAK - 1 :]
    record = rut.iloc[-1] >= rut.iloc[:-1].max()
    vix_eases = frames["^VIX"]["Close"].iloc[-1] < frames["^VIX"]["Close"].iloc[-6]
    return bool(record and vix_eases and (rel.iloc[1:] > 0).all() and rel.iloc[0] < 0)


# --------------------------------------------------------------------------- sample feeds

EST = timezone(timedelta(hours=-5), "EST")
# Fictional headlines, per feed: "when (day of November 2026, time ET) slug", title, summary; a blank line
# between items.  A slug with a "/" is shared across feeds (an exact duplicate); the rest live under the
# feed's own path.
HEADLINES = """
== cnbc-investing
20 16:45 russell-2000-record
Russell 2000 closes at record as small caps extend winning streak
The small-cap benchmark beat the S&P 500 for a seventh straight session, led by regional banks.

18 08:30 harbor-ridge-earnings
Harbor Ridge Industrial beats on margins and lifts its 2027 outlook
The small-cap machinery maker said order backlogs grew for a fourth straight quarter.

17 11:05 rotation-smaller-companies
Why fund managers are rotating toward smaller companies
Cheaper valuations and easing borrowing costs are drawing money away from megacaps.

19 17:20 discount-retail-earnings
Discount chains top estimates while mall-based retailers lag
Results from a dozen smaller retailers point to a cautious but steady holiday shopper.

16 10:15 lumen-vale-trial
Micro-cap biotech Lumen Vale Therapeutics jumps after trial readout
Shares more than doubled after a mid-stage study met its main goal.

19 12:40 regional-lenders-rally
Regional lenders rally as deposit costs ease
Bank stocks had their best two days in months after two lenders cut deposit-rate guidance.

== cnbc-economy
18 14:05 fed-minutes-cut
Fed minutes show officials open to another cut if inflation keeps cooling
Several policymakers said a December move would be appropriate if price data cooperate.

17 08:35 retail-sales-october
October retail sales rise more than expected
Spending at stores and restaurants picked up, led by autos and home furnishings.

19 08:32 jobless-claims-low
Weekly jobless claims fall to a six-week low
Initial claims dropped as layoffs stayed subdued heading into the holidays.

18 08:40 housing-starts-slip
Housing starts slip as builders wait for lower mortgage rates
Groundbreakings on single-family homes fell for a second month.

19 15:30 yields-fall-third-day
Treasury yields fall for a third day as traders price in a December cut
The 10-year yield touched its lowest level in a month after soft producer-price data.

== marketwatch-top
20 16:30 stocks-close-small-caps-lead
Stocks close higher as small caps lead for a second week
The Russell 2000 outpaced the S&P 500 and the Nasdaq again as rate-sensitive shares rallied.

19 10:20 ten-year-yield-slides
10-year Treasury yield slides toward 4.1% after soft producer prices
Bond buyers stepped in after wholesale inflation came in below forecasts.

17 06:00 small-caps-lagged-years
Small-cap stocks have lagged for years. Here is what could change
Earnings growth, cheaper credit and a wide valuation gap are the bulls' three arguments.

18 14:50 oil-slips-energy-drag
Oil slips as supply worries fade, dragging energy shares lower
Small-cap drillers and oil-service names were the week's weakest corner of the market.

20 13:15 junk-spreads-tighten
High-yield bond spreads tighten to the narrowest since spring
Demand for riskier corporate debt stayed strong as new issuance picked up.

== yahoo-iwm
20 15:10 wire/iwm-weekly-inflow
IWM draws its largest weekly inflow since July as investors bet on smaller companies
Money poured into the biggest Russell 2000 fund for a third week as the small-cap rally broadened.

19 14:25 iwm-volume-surges
Russell 2000 ETF volume surges as small caps break out
Trading in IWM ran well above its 20-day average for a third straight session.

16 09:10 valuation-gap
Small caps vs. large caps: the valuation gap remains wide
Smaller companies still trade at a steep discount to the S&P 500 on forward earnings.

17 13:00 ijr-vs-iwm
IJR and IWM: what separates the two most popular small-cap funds
An earnings screen keeps many unprofitable companies out of the S&P SmallCap 600.

18 16:10 value-beats-growth
Small-cap value outpaces growth as lenders and industrials lead
Value shares have beaten growth in the Russell 2000 for most of November.

== seekingalpha-iwm
19 09:45 breadth-confirms
IWM: Breadth Confirms The Breakout, But RSI Says Pause
Most small-cap sectors sit above their 50-day averages, yet momentum looks stretched.

17 07:30 rate-sensitivity
Small Caps: Rate Sensitivity Is A Double-Edged Sword
Floating-rate debt helps small caps when yields fall and hurts them when they rise.

20 18:00 overbought-history
The Russell 2000 Is Overbought: What History Says About The Next Month
Past readings above 70 on the 14-day RSI were followed by mixed returns a month later.

16 11:20 regional-bank-margins
Regional Banks: Net Interest Margins Are Bottoming
Falling deposit costs should help smaller lenders' margins in 2027.

== google-news-small-caps
20 15:10 wire/iwm-weekly-inflow
IWM draws its largest weekly inflow since July as investors bet on smaller companies
Money poured into the biggest Russell 2000 fund for a third week as the small-cap rally broadened.

20 17:05 record-streak-wire
Russell 2000 Closes at Record as Small Caps Extend Winning Streak - Example Wire
Small caps beat large caps again on Friday.

21 09:00 strategists-split
Strategists split on whether the small-cap rally can last into 2027 - Example Times
Bulls point to cheaper credit; bears point to stretched momentum.

18 12:30 junk-issuance
Credit markets calm as junk-bond issuance picks up - Example Journal
Companies rated below investment grade sold the most debt in a month.

17 15:45 health-care-lags
Small-cap health care lags as the drug-pricing debate returns - Example Wire
Smaller drugmakers fell as lawmakers revived a pricing proposal.

== fed-press
18 14:00 fomc-minutes
Minutes of the Federal Open Market Committee, October 27-28, 2026
The Committee's minutes describe the discussion at its October meeting.

17 16:30 supervision-report
Federal Reserve Board publishes its semiannual Supervision and Regulation Report
The report summarizes banking conditions and the Federal Reserve's supervisory activities.

20 10:00 community-bank-speech
Speech on community bank resilience and local lending
Remarks on how smaller banks have managed deposit costs and credit quality.

16 16:00 financial-stability-report
Federal Reserve Board issues its Financial Stability Report
The report reviews vulnerabilities in the U.S. financial system.

== nyt-business
19 05:00 small-business-relief
Small Businesses See Relief as Borrowing Costs Ease
Owners say loan rates have started to come down, though slowly.

21 07:00 little-guys-moment
Why the Stock Market's Little Guys Are Having a Moment
After years in the shadow of tech giants, smaller companies are leading.

16 05:00 mall-owners-holiday
Mall Owners Bet on a Holiday Season Rebound
Landlords are counting on steady spending by middle-income shoppers.

18 05:00 midsize-loan-demand
Banks Report Steady Loan Demand From Midsize Companies
Regional lenders say borrowers are back after a cautious year.
"""


def _items() -> dict[str, list[tuple[str, str, str, str]]]:
    feeds: dict[str, list[tuple[str, str, str, str]]] = {}
    for block in HEADLINES.split("== ")[1:]:
        name, _, body = block.partition("\n")
        items = [item.strip().split("\n") for item in body.strip().split("\n\n")]
        feeds[name.strip()] = [(w[:8], w[9:], title, summary) for w, title, summary in items]
    return feeds


ITEMS = _items()
FALLBACK = ITEMS["marketwatch-top"]


def render_feed(name: str, outlet: str, index: int) -> tuple[bytes, int, date]:
    """RSS 2.0 bytes for one sample feed, its item count and the newest item's date."""
    items = ITEMS.get(name) or FALLBACK[index % 2 :]
    google = name.startswith("google")
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>',
        f"<title>SAMPLE — illustrative: {escape(outlet)}</title>",
        f"<link>https://example.com/sample/{escape(name)}</link>",
        "<description>SAMPLE — illustrative headlines written for the bundled sample; "
        "fictional, not real news.</description>",
        f"<language>en-us</language>\n<lastBuildDate>{format_datetime(BUILT_AT)}</lastBuildDate>",
    ]
    newest = date.min
    for when, slug, title, summary in items:
        day, clock = when.split()
        stamp = datetime(2026, 11, int(day), int(clock[:2]), int(clock[3:]), tzinfo=EST)
        newest = max(newest, stamp.date())
        link = f"https://example.com/sample/{slug if '/' in slug else f'{name}/{slug}'}"
        text = f"{summary} Illustrative sample item."
        if google and "/" not in slug:  # Google News puts HTML in the description
            text = (
                f'<a href="{link}">{escape(title)}</a>&nbsp;&nbsp;<font color="#6f6f6f">{escape(text)}</font>'
            )
        parts += [
            f"<item>\n<title>{escape(title)}</title>\n<link>{link}</link>\n<guid>{link}</guid>",
            f"<pubDate>{format_datetime(stamp)}</pubDate>\n<description>{escape(text)}</description>",
        ]
        if google and " - " in title:  # Google News names the publisher, as in the title's suffix
            publisher = title.rsplit(" - ", 1)[1]
            parts.append(f'<source url="https://example.com/">{escape(publisher)}</source>')
        parts.append("</item>")
    parts += ["</channel>", "</rss>", ""]
    return "\n".join(parts).encode("utf-8"), len(items), newest


# --------------------------------------------------------------------------- the snapshot


def load_universe(config: Path) -> tuple[list[str], list[dict[str, Any]]]:
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    return [str(u["symbol"]) for u in doc["universe"]], list(doc.get("news") or [])


def build_sample(config: Path = ROOT / "feeds.yaml") -> Snapshot:
    """The sample snapshot: every universe symbol and one sample feed per configured feed."""
    symbols, news = load_universe(config)
    days = trading_days()
    for attempt in range(200):
        rng = np.random.default_rng(SEED + attempt)
        frames = _frames(days, symbols, rng)
        if _story_holds(frames):
            log.info("the scripted story holds with seed %d", SEED + attempt)
            break
    else:
        raise SystemExit("make_sample: no seed gives the scripted story; check STORY_* settings")
    series = {
        s: Series(s, fr.rename_axis("Date"), SAMPLE_PROVIDER, "sample", BUILT_AT) for s, fr in frames.items()
    }
    feeds, feed_health = {}, []
    for i, feed in enumerate(news):
        name = str(feed["name"])
        body, count, newest = render_feed(name, str(feed.get("outlet") or name), i)
        feeds[name] = FeedCapture(name, f"https://example.com/sample/{name}.xml", body, "sample", BUILT_AT)
        feed_health.append(
            SourceHealth("feed", name, "sample", "sample", count, newest, provider=SAMPLE_PROVIDER)
        )
    health = tuple(
        SourceHealth(
            "symbol", s.symbol, "sample", "sample", len(s.frame), s.last_bar, provider=SAMPLE_PROVIDER
        )
        for s in series.values()
    )
    # The whole index, FRED and the calendar (scripts/sample_extras.py): their own seed, so the prices
    # above do not change when these do.
    extras_rng = np.random.default_rng(SEED + 1000)
    view = sample_extras.index_view(frames, extras_rng, (AS_OF - timedelta(days=4), AS_OF))
    series.update(sample_extras.fred_series(frames, SAMPLE_PROVIDER, BUILT_AT))
    earnings = sample_extras.earnings(view, np.random.default_rng(SEED + 2000), BUILT_AT)
    fundamentals = sample_extras.fundamentals(view, np.random.default_rng(SEED + 3000), SAMPLE_PROVIDER)
    return Snapshot(
        as_of=AS_OF, built_at=BUILT_AT, series=series, feeds=feeds, is_sample=True, provider=SAMPLE_PROVIDER,
        health=health + tuple(feed_health),
        valuation=VALUATION, valuation_as_of=dict.fromkeys(VALUATION, VALUATION_READ),
        fundamentals=fundamentals, notes=NOTES, index_view=view, events=sample_extras.calendar(AS_OF),
        earnings=earnings,
    )  # fmt: skip


def write_sample(out: Path = SAMPLE_DIR, config: Path = ROOT / "feeds.yaml") -> Path:
    return write_snapshot(build_sample(config), out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config", type=Path, default=ROOT / "feeds.yaml", help="feeds.yaml with the universe"
    )
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR, help="snapshot folder to (re)write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = write_sample(args.out, args.config)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    print(f"wrote {path} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
