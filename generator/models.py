"""Frozen values passed between the pipeline stages.

config ─► Config ─► sources ─► Snapshot ─► analysis ─► Brief ─► render / publish

Nothing in this module does I/O.  A number shown in the brief is always a
:class:`Figure`: the value together with where it came from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from generator.redact import hide_local_paths

if TYPE_CHECKING:  # pandas only where frames are used: a process that reads a Brief does not import it
    import pandas as pd

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


class Role(StrEnum):
    """What an instrument is for in the analysis (an instrument may have several roles)."""

    SMALL_CAP = "small_cap"  # small-cap benchmarks and trackers: ^RUT, ^SP600, IWM, IJR
    SIZE_LADDER = "size_ladder"  # micro → mega cap ladder: IWC, IWM, IWR, IWB, OEF
    STYLE = "style"  # value / growth: IWN, IWO
    LARGE_CAP = "large_cap"  # comparators: ^GSPC, ^IXIC, ^RUI, RSP
    RATES = "rates"  # ^IRX, ^FVX, ^TNX, ^TYX (Yahoo quotes these as percent, e.g. 4.05)
    VOLATILITY = "volatility"  # ^VIX, ^RVX
    CREDIT = "credit"  # HYG, IEF
    SECTOR = "sector"  # small-cap sector ETFs PSC*, KRE


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Instrument:
    symbol: str  # as Yahoo spells it: ^RUT, IWM
    name: str  # display name: "Russell 2000"
    roles: tuple[Role, ...]  # one or more
    sector: str | None = None  # for role "sector": "Technology"
    required: bool = False  # --data live fails when a required symbol is not fresh


@dataclass(frozen=True)
class Slots:
    """Which symbol plays which part in the analysis (the ``analysis:`` block of feeds.yaml).

    Every symbol named here is also in the universe (checked by load_config).
    """

    benchmark: str = "^RUT"  # the small-cap benchmark: streaks, records, RSI, drawdown
    large_cap: str = "^GSPC"  # the main large-cap comparator
    nasdaq: str = "^IXIC"
    ladder: tuple[str, ...] = ("IWC", "IWM", "IWR", "IWB", "OEF")  # micro → mega
    ladder_labels: tuple[str, ...] = ("Micro", "Small", "Mid", "Large", "Mega")
    value: str = "IWN"
    growth: str = "IWO"
    equal_weight: str = "RSP"
    cap_weight: str = "^GSPC"
    rate_3m: str = "^IRX"
    rate_5y: str = "^FVX"
    rate_10y: str = "^TNX"
    rate_30y: str = "^TYX"
    vix: str = "^VIX"
    rvx: str = "^RVX"
    high_yield: str = "HYG"
    treasury: str = "IEF"


@dataclass(frozen=True)
class Feed:
    name: str  # unique, safe as a file name: "cnbc-markets"
    url: str  # http or https
    outlet: str  # display name: "CNBC"
    topics: tuple[str, ...] = ()  # hints for theme scoring: "fed", "small_caps", ...
    weight: float = 1.0  # multiplies the relevance score of this feed's headlines (0 mutes the feed)


@dataclass(frozen=True)
class BriefSettings:
    title: str = "Small-Cap Weekly"
    timezone: str = "America/New_York"
    week_ends_on: str = "friday"  # reporting weeks end on this weekday
    history_years: int = 12  # how much history a live fetch keeps


@dataclass(frozen=True)
class HeadlineSettings:
    min_score: float = 1.0  # headlines scoring below this relevance floor are left out


@dataclass(frozen=True)
class NetworkSettings:
    user_agent: str = "smallcap-brief/0.1 (+https://github.com/smallcap-brief/smallcap-brief)"
    feed_timeout: float = 10.0  # seconds per feed request
    feed_deadline: float = 30.0  # seconds for all feeds together
    market_deadline: float = 90.0  # seconds for the whole market download
    max_feed_bytes: int = 5_000_000  # decompressed size cap per feed
    max_redirects: int = 5
    allow_hosts: tuple[str, ...] = ()  # hosts allowed even if they resolve to private addresses


@dataclass(frozen=True)
class SiteSettings:
    base_url: str = ""  # absolute URL of the published site, used in Atom and the email
    title: str = "Small-Cap Weekly"


@dataclass(frozen=True)
class EmailSettings:
    sender: str = "Small-Cap Weekly <brief@example.com>"
    to: tuple[str, ...] = ()
    subject_prefix: str = "Small-Cap Weekly"
    list_unsubscribe: str = ""  # "<mailto:...>, <https://...>"; empty leaves the headers out
    list_unsubscribe_post: bool = True


FRED_DEFAULT_SERIES: tuple[str, ...] = ("DGS2", "DGS10", "DGS3MO", "T10Y2Y", "BAMLH0A0HYM2")
IWM_HOLDINGS_URL = (
    "https://www.ishares.com/us/products/239710/ishares-russell-2000-etf/"
    "1467271812596.ajax?fileType=csv&fileName=IWM_holdings&dataType=fund"
)


@dataclass(frozen=True)
class FredSettings:
    """The ``fred:`` block: which FRED series to download (fredgraph.csv, no key needed)."""

    series: tuple[str, ...] = FRED_DEFAULT_SERIES  # () turns FRED off
    timeout: float = 15.0  # seconds per series download
    deadline: float = 60.0  # seconds for all series together


@dataclass(frozen=True)
class CalendarDate:
    """A dated item configured by hand (Russell reconstitution), with the page that announces it."""

    day: date
    title: str
    url: str  # http or https


@dataclass(frozen=True)
class EarningsSettings:
    """The ``calendar.earnings:`` block: the largest index members reporting next week (Yahoo Finance)."""

    top: int = 10  # members listed, largest index weight first; 0 turns the earnings calendar off
    deadline: float = 60.0  # seconds for reading Yahoo Finance's earnings calendar, all pages together


@dataclass(frozen=True)
class CalendarSettings:
    """The ``calendar:`` block: next week's official calendar."""

    official: tuple[str, ...] = ("fed", "bls", "bea")  # which official sources to ask; () for none
    timeout: float = 15.0  # seconds per calendar download
    deadline: float = 45.0  # seconds for all calendar sources together
    russell: tuple[CalendarDate, ...] = ()  # reconstitution dates with their source URL
    earnings: EarningsSettings = field(default_factory=EarningsSettings)


@dataclass(frozen=True)
class IndexSettings:
    """The ``index:`` block: the index seen through its members (membership, then member prices)."""

    holdings: str = IWM_HOLDINGS_URL  # an http(s) URL or a local file; "" turns the member view off
    sp600: str = ""  # the S&P 600 from a SPDR holdings workbook (SLY, SPSM): URL or local file; "" off
    timeout: float = 30.0  # seconds for each holdings download
    history_days: int = 400  # calendar days of member prices kept (200-day averages, 52-week range)
    budget: float = 600.0  # seconds for the member prices stage as a whole
    chunk: int = 150  # members asked per chunk
    pause: float = 1.0  # seconds between chunks


@dataclass(frozen=True)
class ValuationSettings:
    """The ``valuation:`` block: Yahoo's fund ratios beside a large-cap fund, and the member fundamentals."""

    large_fund: str = "SPY"  # the large-cap fund the small-cap funds' ratios are set beside ("" none)
    members: bool = True  # the monthly member fundamentals refresh (Yahoo's screener); false turns it off
    refresh_days: int = 31  # a member refresh older than this many days is fetched again
    budget: float = 180.0  # seconds for one member refresh as a whole


@dataclass(frozen=True)
class Config:
    path: str
    universe: tuple[Instrument, ...]
    feeds: tuple[Feed, ...]
    slots: Slots = field(default_factory=Slots)
    brief: BriefSettings = field(default_factory=BriefSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    site: SiteSettings = field(default_factory=SiteSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    headlines: HeadlineSettings = field(default_factory=HeadlineSettings)
    fred: FredSettings = field(default_factory=FredSettings)
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    valuation: ValuationSettings = field(default_factory=ValuationSettings)
    # index → ETF standing in for it when the index series is missing, stale or too short
    proxies: tuple[tuple[str, str], ...] = (("^GSPC", "SPY"), ("^IXIC", "QQQ"), ("^RUT", "IWM"))
    # ETF → what it is called standing in, where it tracks another index (else "<index name> (<ETF>)");
    # by the ETF, since the name says what the fund follows, whichever index it stands in for
    proxy_names: tuple[tuple[str, str], ...] = (("QQQ", "Nasdaq-100 (QQQ)"),)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(i.symbol for i in self.universe)

    def instrument(self, symbol: str) -> Instrument | None:
        return next((i for i in self.universe if i.symbol == symbol), None)

    def with_role(self, role: str) -> tuple[Instrument, ...]:
        return tuple(i for i in self.universe if role in i.roles)


# ---------------------------------------------------------------------------
# Snapshot: the frozen inputs of one build
# ---------------------------------------------------------------------------


class SectionKey(StrEnum):
    """The brief's sections (:mod:`generator.analysis.registry` declares each once).

    Here beside the other vocabularies, so that a process unpickling a brief (the render worker)
    does not import the analysis to read a passage's key.
    """

    PERFORMANCE = "performance"
    BREADTH = "breadth"
    DRIVERS = "drivers"
    RISKS = "risks"
    VALUATION = "valuation"
    OUTLOOK = "outlook"
    CHANGES = "changes"


class Origin(StrEnum):
    """Where a series or feed in a snapshot came from."""

    LIVE = "live"
    CACHE = "cache"
    SAMPLE = "sample"
    LOCAL = "local"
    SNAPSHOT = "snapshot"
    NONE = "none"  # nothing could be had (a failed source's health row)


PRICE_COLUMNS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close", "Volume")


@dataclass(frozen=True, eq=False)
class Series:
    """One symbol's daily bars, cleaned.

    ``frame`` has a tz-naive DatetimeIndex of dates (midnight), sorted and unique,
    named "Date", with float columns Open, High, Low, Close, Volume and optionally
    "Adj Close".  Every Close is positive.
    """

    symbol: str
    frame: pd.DataFrame
    provider: str  # "Yahoo Finance (yfinance)", "local files", "sample (illustrative)"
    origin: Origin = Origin.SNAPSHOT
    fetched_at: datetime | None = None
    # The snapshot CSV ``frame`` was read from, paired with that very frame object: a series read
    # from a snapshot is written into the next one without formatting its prices again.  A copy
    # with another frame (``dataclasses.replace``) does not carry it over (see ``text``).
    read_from: tuple[pd.DataFrame, bytes] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The generator passes members; a string (a test's) is checked and converted: ValueError names
        # an unknown one (a manifest's strings are converted where they are read, in sources.snapshot).
        object.__setattr__(self, "origin", Origin(self.origin))

    @property
    def text(self) -> bytes | None:
        """The snapshot CSV bytes whose reading gives exactly ``frame``, when known."""
        if self.read_from is None or self.read_from[0] is not self.frame:
            return None
        return self.read_from[1]

    @cached_property
    def first_bar(self) -> date:
        return self.frame.index[0].date()  # type: ignore[no-any-return]

    @cached_property
    def last_bar(self) -> date:
        # Remembered (the frame is never changed): an analysis asks it hundreds of times.
        return self.frame.index[-1].date()  # type: ignore[no-any-return]

    @cached_property
    def closes(self) -> pd.Series:
        """Adjusted closes where present, else closes (remembered: read, never changed)."""
        col = "Adj Close" if "Adj Close" in self.frame.columns else "Close"
        return self.frame[col]

    def until(self, day: date) -> Series:
        """The same series without any bar after ``day`` (no look-ahead)."""
        import pandas as pd

        index = self.frame.index
        if not len(index) or self.last_bar <= day:
            return self  # nothing after ``day``: the same (immutable) series
        frame = self.frame.iloc[: int(index.searchsorted(pd.Timestamp(day), side="right"))]
        text = self.text
        if text is not None:
            # One CSV line per row after the header: the cut's text is its first len(frame) + 1 lines.
            text = text[: int(self._line_ends[len(frame)]) + 1]
        read_from = (frame, text) if text is not None else None
        return Series(self.symbol, frame, self.provider, self.origin, self.fetched_at, read_from)

    @cached_property
    def _line_ends(self) -> Any:
        """Where each line of :attr:`text` ends (a backfill cuts the same text once a week)."""
        import numpy as np

        return np.flatnonzero(np.frombuffer(self.text or b"", dtype=np.uint8) == ord("\n"))


class SourceStatus(StrEnum):
    """A source's state in the health table."""

    OK = "ok"
    STALE = "stale"
    FAILED = "failed"
    NOT_MODIFIED = "not modified"
    CACHED = "cached"
    SAMPLE = "sample"
    REPAIRED = "repaired"


# The one definition of "healthy" (health table, console, --strict): these statuses, without an error.
# "repaired" (a feed the parser had to fix: usable, but degraded), "stale" and "failed" are not.
HEALTHY_STATUSES = frozenset(
    {SourceStatus.OK, SourceStatus.NOT_MODIFIED, SourceStatus.SAMPLE, SourceStatus.CACHED}
)


@dataclass(frozen=True)
class FeedCapture:
    """The raw bytes of one feed as fetched (or as bundled / cached)."""

    name: str
    url: str
    body: bytes
    origin: Origin = Origin.SNAPSHOT
    fetched_at: datetime | None = None
    status: SourceStatus = SourceStatus.OK  # ok, not modified, failed, repaired or cached
    error: str = ""

    def __post_init__(self) -> None:
        # The generator passes members; a string (a test's) is checked and converted: ValueError names
        # an unknown one (a manifest's strings are converted where they are read, in sources.snapshot).
        object.__setattr__(self, "origin", Origin(self.origin))
        object.__setattr__(self, "status", SourceStatus(self.status))


# The kinds of source-health row, and their plurals ("31 symbols", "2 feeds", "5 series").
KIND_PLURALS = {"symbol": "symbols", "feed": "feeds", "series": "series", "provider": "providers"}


def kind_word(kind: str, n: int) -> str:
    """``symbol`` for one, ``symbols`` for any other number (``series`` either way)."""
    return kind if n == 1 else KIND_PLURALS.get(kind, f"{kind}s")


@dataclass(frozen=True)
class SourceHealth:
    """One row of the source-health table: a symbol or a feed."""

    kind: str  # "symbol" | "feed"
    name: str  # the symbol or the feed name
    status: SourceStatus
    origin: Origin
    count: int = 0  # bars or items
    newest: date | None = None  # last bar date / newest item date
    error: str = ""  # plain words; empty when ok
    provider: str = ""

    def __post_init__(self) -> None:
        # The generator passes members; a string (a test's) is checked and converted: ValueError names
        # an unknown one (a manifest's strings are converted where they are read, in sources.snapshot).
        object.__setattr__(self, "status", SourceStatus(self.status))
        object.__setattr__(self, "origin", Origin(self.origin))
        # Published in the brief, the email and the manifest: no path of the build machine.
        object.__setattr__(self, "error", hide_local_paths(self.error))

    @property
    def healthy(self) -> bool:
        return self.status in HEALTHY_STATUSES and not self.error

    @property
    def reason(self) -> str:
        """The error without the source's own name before it ("^RUT: cannot reach …" → "cannot reach …")."""
        return self.error.removeprefix(f"{self.name}:").strip()


@dataclass(frozen=True, eq=False)
class IndexView:
    """The index seen through its members, derived from the member panel (which stays in the cache).

    ``daily``: one row per session (advancers, decliners, unchanged, net, ad_line, mcclellan,
    above_50, eligible_50, above_200, eligible_200, new_highs, new_lows, high_low_eligible).
    ``members``: one row per member of the membership (index: Yahoo symbol) with name, sector,
    weight (percent of the fund), base_close and last_close (the last close before the week and
    the week's last close; blank when not fetched), new_high and new_low (1 when the member set a
    52-week closing high / low during the week).
    """

    week_start: date
    week_end: date
    membership_as_of: date  # the holdings file's "as of" date
    source: str  # "iShares IWM holdings"
    provider: str  # where the member prices come from
    daily: pd.DataFrame
    members: pd.DataFrame
    from_cache: bool = False  # the membership is the last cached one (the download failed)


@dataclass(frozen=True)
class MemberFundamentals:
    """The index members' trailing earnings against their market values, summed when the snapshot was made.

    From the monthly refresh of Yahoo Finance's screener (the quotes stay in the cache).  A member is
    covered when it has a positive market value, a trailing 12-month EPS and a positive price; its
    earnings are market value × EPS / price.  Sums are in US dollars over the covered members.
    """

    as_of: date  # the day of the refresh
    membership_as_of: date  # the holdings file the members come from
    source: str  # "Yahoo Finance screener (yfinance)"
    members: int  # members of the membership
    covered: int  # of which with the data above
    loss_makers: int  # covered members with negative trailing earnings
    market_cap: float  # market value of the covered members
    earnings: float  # their trailing earnings, losses included
    profit_market_cap: float  # market value of the members with positive earnings
    profits: float  # their earnings
    loss_market_cap: float  # market value of the loss-makers
    complete: bool = True  # the refresh read the whole screen (False: it stopped early)


@dataclass(frozen=True)
class ScheduledEvent:
    """One dated item of next week's official calendar."""

    day: date
    title: str  # "FOMC rate decision", "CPI", "Employment Situation"
    source: str  # "Federal Reserve", "BLS", "BEA", "FTSE Russell"
    url: str  # where it is published (http or https)
    time_et: str = ""  # "08:30" when known


@dataclass(frozen=True)
class EarningsReport:
    """One index member's earnings report dated next week, as Yahoo Finance's earnings calendar lists it."""

    day: date  # the report's day (New York time)
    symbol: str  # the Yahoo Finance symbol
    name: str  # the company's name as the calendar writes it
    weight: float  # percent of the fund (IWM) in the membership used
    timing: str = ""  # "BMO" before the open, "AMC" after the close, "" when the calendar does not say
    url: str = ""  # the symbol's page on Yahoo Finance's earnings calendar (http or https)


@dataclass(frozen=True)
class EarningsWeek:
    """Next week's earnings of the index members: the largest by weight, and how many report in all."""

    start: date  # the week the calendar was read for
    end: date
    reporting: int  # members with a report dated start..end
    members: int  # members checked (the membership)
    largest: tuple[EarningsReport, ...]  # the largest reporting members by weight, by day then weight
    membership_as_of: date  # the holdings file's "as of" date
    weights_from: str  # "iShares IWM holdings"
    source: str  # "Yahoo Finance"
    read_at: datetime | None = None  # when the calendar was read
    origin: Origin = Origin.LIVE  # live, cache (the latest read failed) or sample
    complete: bool = True  # False: the calendar was read only partway (``note`` says why)
    note: str = ""  # why the calendar is partial or cached ("" when read whole this run)

    def __post_init__(self) -> None:
        # The generator passes members; a string (a test's) is checked and converted: ValueError names
        # an unknown one (a manifest's is converted where it is read, in sources.earnings_block).
        object.__setattr__(self, "origin", Origin(self.origin))
        object.__setattr__(self, "note", hide_local_paths(self.note))


class BlockStatus(StrEnum):
    """A provider block's state in the snapshot manifest (see :class:`ProviderBlock`)."""

    OK = "ok"
    DEGRADED = "degraded"
    FAILED = "failed"


BLOCK_STATUSES: tuple[BlockStatus, ...] = tuple(BlockStatus)  # the order a manifest error lists them in


@dataclass(frozen=True)
class ProviderBlock:
    """One provider's block of a snapshot manifest: who fetched which of the snapshot's files, when.

    ``series``, ``feeds`` and ``index`` name what of the snapshot the block holds; the snapshot
    writer lists those files in the block, each with its sha256.  ``fetched_at`` is the build clock
    of the run that fetched (None when the provider only read its cache); ``status`` is ok,
    degraded (some of its sources failed or came from the cache) or failed (none of its sources
    answered and it gave nothing).
    """

    name: str  # the provider's name: "yahoo-prices", "fred", ...
    label: str = ""  # "FRED, Federal Reserve Bank of St. Louis"
    fetched_at: datetime | None = None
    status: BlockStatus = BlockStatus.OK
    series: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    index: bool = False  # the index view (its daily and members files)
    universes: tuple[str, ...] = ()  # the keys of the other universes' views it holds ("sp600")

    def __post_init__(self) -> None:
        # The generator passes members; a string (a test's) is checked and converted: ValueError names
        # an unknown one (a manifest's is checked where it is read, in sources.blocks).
        object.__setattr__(self, "status", BlockStatus(self.status))


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Everything the analysis sees.  Written by the fetchers, read by everything else."""

    as_of: date  # the last close the brief reports on
    built_at: datetime  # the build clock (UTC) recorded when the snapshot was made
    series: Mapping[str, Series]
    feeds: Mapping[str, FeedCapture]
    is_sample: bool = False
    provider: str = ""  # overall description: "Yahoo Finance (yfinance)", "local files", ...
    health: tuple[SourceHealth, ...] = ()
    valuation: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # symbol → field → value
    valuation_as_of: Mapping[str, date] = field(default_factory=dict)  # symbol → day its fund data was read
    fundamentals: MemberFundamentals | None = None  # the members' earnings and market values (None: none)
    notes: tuple[str, ...] = ()  # anything the reader must know (e.g. "sample data")
    index_view: IndexView | None = None  # member breadth and attribution (None: not covered)
    events: tuple[ScheduledEvent, ...] = ()  # next week's official calendar
    calendar_failures: tuple[tuple[str, str], ...] = ()  # (source, why) for calendar sources that failed
    earnings: EarningsWeek | None = None  # next week's earnings of the index members (None: not covered)
    blocks: tuple[ProviderBlock, ...] = ()  # the providers that gathered it, in the order gather ran them
    # Member views of other universes than the benchmark's index ("sp600"), set beside the index's.
    universes: Mapping[str, IndexView] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Figures and provenance
# ---------------------------------------------------------------------------


class Unit(StrEnum):
    """How a figure's value reads; :mod:`generator.formatting` formats each."""

    PCT = "pct"  # a return or change in percent: 1.234 means +1.23%
    PP = "pp"  # a spread in percentage points
    BP = "bp"  # basis points (rate changes)
    YIELD = "yield"  # a yield level in percent: 4.05 means 4.05%
    LEVEL = "level"  # an index or price level
    RATIO = "ratio"  # a plain ratio (RS ratio, HYG/IEF)
    X = "x"  # a multiple (volume vs average, P/E)
    DAYS = "days"  # a count of trading days
    WEEKS = "weeks"  # a count of weeks
    COUNT = "count"  # a plain count
    PCTILE = "pctile"  # a percentile 0–100
    INDEX = "index"  # an oscillator such as RSI 0–100
    POINTS = "points"  # a signed change of a level or multiple, in its own points (VIX -1.51 pts)
    INDEX_POINTS = "index_points"  # a signed change of an oscillator, to its tenth as shown (RSI +15.8 pts)
    DATE = "date"  # value is None; text holds an ISO date
    TEXT = "text"  # value is None; text holds a short word ("above", "golden cross")


@dataclass(frozen=True)
class Provenance:
    symbols: tuple[str, ...]  # the symbol(s) the figure is computed from
    window: str  # "1W", "1M", "3M", "QTD", "YTD", "1Y", "52W", "history", "14d", "50d", ...
    last_bar: date | None  # the last bar date the figure uses
    provider: str  # as in Series.provider
    method: str  # one sentence: how it is computed
    first_bar: date | None = None  # the first bar the figure uses, when it matters


@dataclass(frozen=True)
class Figure:
    """A number in the brief, with its source.  ``value`` None means "not available"."""

    key: str  # stable id, e.g. "return.^RUT.1W"; used for "what changed" and footnotes
    label: str  # short human label: "Russell 2000, 1 week"
    value: float | None
    unit: Unit
    provenance: Provenance
    text: str = ""  # for unit "date"/"text", or a qualitative word shown after the value
    stale: bool = False  # the source's last bar is before the reporting week
    note: str = ""  # why it is not available, or a caveat

    @property
    def available(self) -> bool:
        return not self.stale and (
            self.value is not None or (self.unit in ("date", "text") and bool(self.text))
        )


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Figure | str, ...], ...]  # cells are figures or plain text

    def figures(self) -> Iterator[Figure]:
        for row in self.rows:
            yield from (c for c in row if isinstance(c, Figure))

    def numeric_columns(self) -> tuple[bool, ...]:
        """Per column, whether it holds figures: those are set right, as numbers are; a column of
        words (a status, a detail) reads from the left, its heading with it."""
        return tuple(
            any(i < len(row) and isinstance(row[i], Figure) for row in self.rows)
            for i in range(len(self.columns))
        )

    def trimmed(self) -> Table | None:
        """The table without its wholly unavailable rows and columns (said once in "Not covered").

        A row whose every figure is unavailable goes, and so does a column with no available
        figure; a table left with no figure at all goes too (None).  A table of words stays as it is.
        """
        if not any(True for _ in self.figures()):
            return self

        def shown(cell: Figure | str) -> bool:
            return isinstance(cell, Figure) and cell.available

        rows = [row for row in self.rows if any(shown(c) for c in row)]
        if not rows:
            return None
        figure_columns = {j for row in self.rows for j, c in enumerate(row) if isinstance(c, Figure)}
        keep = [
            j
            for j in range(len(self.columns))
            if j not in figure_columns or any(j < len(r) and shown(r[j]) for r in rows)
        ]
        return Table(
            self.caption, tuple(self.columns[j] for j in keep), tuple(tuple(r[j] for j in keep) for r in rows)
        )


@dataclass(frozen=True)
class Check:
    """One line of an outlook checklist: a condition and today's reading."""

    condition: str  # "Russell 2000 above its 200-day average"
    figure: Figure  # today's reading
    met: bool | None  # None when the figure is not available
    level: float | None = None  # the threshold the reading is held against, where the rule has one


@dataclass(frozen=True)
class Headline:
    feed: str  # feed name from feeds.yaml
    outlet: str  # display name of the outlet
    title: str  # plain text (templates escape it)
    link: str | None  # http(s) only; None when the feed's link was unsafe or missing
    published: datetime | None  # timezone-aware UTC
    summary: str = ""  # plain text, tags stripped, at most ~300 characters
    guid: str = ""
    themes: tuple[str, ...] = ()  # theme keys this headline speaks to, best first
    score: float = 0.0  # relevance to small caps
    is_new: bool = True  # not seen in an earlier week
    also: tuple[str, ...] = ()  # other outlets that carried the same story

    def news_order(self) -> tuple[float, float, str, str]:
        """Sort key: most relevant first, then newest, then by title and link (a stable order)."""
        ts = self.published.timestamp() if self.published is not None else 0.0
        return (-self.score, -ts, self.title, self.link or "")


@dataclass(frozen=True)
class ChartSpec:
    """Data for one chart; :mod:`generator.charts` draws it.  Built by the analysis."""

    key: str  # file-safe id: "rut-vs-spx"
    title: str
    alt: str  # what the chart shows, in words, with the key numbers
    kind: str  # "line" | "bar" | "hbar"
    x: tuple[str, ...]  # ISO dates for "line"; category labels for bars
    series: tuple[tuple[str, tuple[float | None, ...]], ...]  # (label, values aligned with x)
    y_label: str = ""
    source: str = ""  # "Source: Yahoo Finance (yfinance), last bar 2026-11-20"
    reference: float | None = None  # a horizontal reference line (e.g. 0 or 100)


@dataclass(frozen=True)
class RenderedChart:
    """One drawn chart (:mod:`generator.charts`): SVG for the HTML and the PDF, PNG for email and Markdown.

    It lives here, not beside matplotlib, so that a process receiving charts from the render
    worker does not import matplotlib to unpickle them.
    """

    key: str
    title: str
    alt: str
    svg: str  # inline-safe <svg> element: no XML declaration, role="img", <title> with the alt text
    png: bytes


@dataclass(frozen=True)
class Topic:
    """One block of a section's facts: figures, and the full table a checker wants (no prose)."""

    key: str  # "rates", "rotation", "rsi", ...
    title: str
    figures: tuple[Figure, ...] = ()
    table: Table | None = None
    checks: tuple[Check, ...] = ()
    chart: str | None = None  # ChartSpec.key
    headlines: tuple[Headline, ...] = ()


@dataclass(frozen=True)
class Section:
    """A section's facts; the narrative writes its prose (``Brief.body``), the appendix shows its tables."""

    key: str  # performance | drivers | risks | outlook | changes | valuation
    title: str
    topics: tuple[Topic, ...] = ()


@dataclass(frozen=True)
class Cite:
    """A number inside prose: the narrative's wording of a figure ("14 bp"), shown with its source marker."""

    figure: Figure
    text: str


Prose = tuple[str | Cite, ...]  # a sentence or paragraph: plain text and cited figures, in order


@dataclass(frozen=True)
class Takeaway:
    """One key takeaway at the top of the brief, chosen by news value."""

    kind: str  # the event kind it reports (newsvalue.EventKind)
    prose: Prose
    score: float  # news value: how unusual, in standard-deviation-like units


@dataclass(frozen=True)
class Passage:
    """One section of the brief's body: short paragraphs, at most one chart, a few bullet items."""

    key: str  # SectionKey
    title: str
    paragraphs: tuple[Prose, ...]
    items: tuple[Prose, ...] = ()  # a short list (the outlook's watch list)
    chart: str | None = None  # ChartSpec.key
    chart_in_print: bool = True  # False: the chart is on the web and in Markdown, not in the PDF
    table: Table | None = None  # on the web and in Markdown; the PDF's passage names its top rows
    headlines: tuple[Headline, ...] = ()
    schedule: tuple[ScheduledEvent, ...] = ()  # dated, linked calendar items (the outlook)
    schedule_failures: tuple[tuple[str, str], ...] = ()  # calendar sources that failed: (source, why)
    earnings_note: Prose = ()  # how many index members report next week, and which are listed
    earnings: tuple[ScheduledEvent, ...] = ()  # the largest of them: dated, linked lines


@dataclass(frozen=True)
class Brief:
    title: str
    as_of: date  # the last close the brief reports on
    week_start: date  # Monday of the reporting week
    week_end: date  # the reporting week's last weekday (Friday)
    built_at: datetime  # from the snapshot, so a rebuild is byte-identical
    is_sample: bool
    summary: str  # one line for the archive and the email preheader
    headline_figure: Figure  # the benchmark's week: whether the brief is stale hangs on it
    sections: tuple[Section, ...]
    charts: tuple[ChartSpec, ...]
    headlines: tuple[Headline, ...]  # top small-cap headlines of the week
    health: tuple[SourceHealth, ...]
    warnings: tuple[str, ...] = ()  # degraded sources, stale series, sample data; shown at the top
    glossary: tuple[tuple[str, str], ...] = ()
    disclaimer: str = ""
    lead: Prose = ()  # the headline sentence
    takeaways: tuple[Takeaway, ...] = ()  # up to 4 besides the headline, by news value, biggest first
    quiet_week: str = ""  # in place of the takeaways when nothing else stood out: said, not left blank
    body: tuple[Passage, ...] = ()  # the narrative body; ``sections`` hold the full figures (appendix)
    not_covered: tuple[str, ...] = ()  # "Not covered this week: …" items, each with its reason
    session_count: int = 5  # sessions of the reporting week in the data (fewer: a partial week)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def figures(self, *, printed: bool = False) -> Iterator[Figure]:
        """Every figure the brief shows, in reading order (duplicates included): what the sources cite.

        ``printed``: those the PDF shows, in its prose only (its tables are on the web and in Markdown).
        """
        yield self.headline_figure
        for prose in self.prose():
            yield from (part.figure for part in prose if isinstance(part, Cite))
        if printed:
            return
        for passage in self.body:
            if passage.table is not None:
                yield from passage.table.figures()
        # The appendix shows each section's tables (trimmed) and checklists; a topic's other
        # figures are facts the narrative may cite, counted above when it does.
        for section in self.sections:
            for topic in section.topics:
                table = topic.table.trimmed() if topic.table is not None else None
                if table is not None:
                    yield from table.figures()
                yield from (c.figure for c in topic.checks)

    def facts(self) -> Iterator[Figure]:
        """Every figure computed for the brief, shown or not (the sections' full facts)."""
        yield from self.figures()
        for section in self.sections:
            for topic in section.topics:
                yield from topic.figures
                if topic.table is not None:
                    yield from topic.table.figures()

    def prose(self) -> Iterator[Prose]:
        """Every piece of narrative, in reading order: lead, takeaways, body paragraphs and items."""
        yield self.lead
        yield from (t.prose for t in self.takeaways)
        for passage in self.body:
            yield from passage.paragraphs
            yield from passage.items

    @property
    def is_stale(self) -> bool:
        """True when the benchmark itself is stale: such a brief must not be published."""
        return self.headline_figure.stale


@dataclass(frozen=True)
class IssueMeta:
    """What the site and the email need to know about a built issue (``meta.json``)."""

    as_of: date
    week_start: date
    week_end: date
    title: str
    summary: str
    headline: str  # the top takeaway in plain text (the email subject carries it)
    is_sample: bool
    is_stale: bool
    built_at: datetime
    files: Mapping[str, str] = field(default_factory=dict)  # format → file name in the issue folder
    takeaways: tuple[str, ...] = ()  # the key takeaways in plain text (site, Atom, email lead with them)
    view_url: str | None = None  # the issue's page on the site, when built with the site's address
