"""Tests for generator.config: the real feeds.yaml, every kind of problem with its key path and line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from generator import config_schema as cfg
from generator.config import default_config_path, describe, load_config
from generator.errors import ConfigError
from generator.models import (
    BriefSettings,
    Config,
    EmailSettings,
    Feed,
    HeadlineSettings,
    Instrument,
    NetworkSettings,
    SiteSettings,
    Slots,
)

ROOT = Path(__file__).resolve().parent.parent

UNIVERSE = """\
universe:
  - {symbol: ^RUT, name: Russell 2000, role: small_cap, required: true}
  - {symbol: ^GSPC, name: S&P 500, role: [large_cap, size_ladder]}
  - {symbol: KRE, name: SPDR S&P Regional Banking ETF, role: sector, sector: Regional Banks}
"""
# Every slot points at one of the three symbols above.
ANALYSIS = (
    "analysis:\n"
    + "".join(
        f"  {f.name}: {'^GSPC' if f.name in ('large_cap', 'cap_weight') else '^RUT'}\n"
        for f in dataclasses.fields(Slots)
        if f.name not in ("ladder", "ladder_labels")
    )
    + "  ladder: [^RUT, ^GSPC]\n  ladder_labels: [Small, Large]\n"
)
BASE = UNIVERSE + ANALYSIS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the only line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} found on lines {hits}"
    return hits[0]


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.path == str(tmp_path / "feeds.yaml")
    return list(info.value.problems)


def single(tmp_path: Path, text: str) -> str:
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    return found[0]


# --- the real file --------------------------------------------------------------------------------------


def test_real_feeds_yaml_loads_with_the_default_universe() -> None:
    config = load_config(ROOT / "feeds.yaml")
    assert len(config.universe) == 32
    assert len(set(config.symbols)) == 32
    assert config.symbols[:4] == ("^RUT", "^SP600", "IWM", "IJR")
    assert {i.symbol for i in config.universe if i.required} == {"^RUT", "IWM", "^GSPC"}
    assert config.instrument("IWM") == Instrument(
        "IWM", "iShares Russell 2000 ETF", ("small_cap", "size_ladder"), None, True
    )
    assert config.instrument("KRE") == Instrument(
        "KRE", "SPDR S&P Regional Banking ETF", ("sector",), "Regional Banks", False
    )
    assert [i.symbol for i in config.with_role("sector")] == [
        *("PSCT", "PSCH", "PSCF", "PSCI", "PSCD", "PSCC", "PSCE", "PSCM", "PSCU", "KRE")
    ]
    assert all(i.sector for i in config.with_role("sector"))
    assert [i.symbol for i in config.with_role("rates")] == ["^IRX", "^FVX", "^TNX", "^TYX"]


def test_real_feeds_yaml_feeds_slots_and_settings() -> None:
    config = load_config(ROOT / "feeds.yaml")
    assert len(config.feeds) == 8
    assert config.feeds[0] == Feed(
        "cnbc-investing",
        "https://www.cnbc.com/id/15839069/device/rss/rss.html",
        "CNBC",
        ("small_caps", "earnings"),
    )
    assert all(f.url.startswith("https://") for f in config.feeds)
    assert config.slots == Slots()
    assert config.slots.ladder == ("IWC", "IWM", "IWR", "IWB", "OEF")
    assert config.brief == BriefSettings("Small-Cap Weekly", "America/New_York", "friday", 12)
    assert config.network == NetworkSettings()
    assert isinstance(config.network.feed_timeout, float)
    assert config.email.sender == "Small-Cap Weekly <brief@example.com>"
    assert config.email.to == ()
    assert config.site == SiteSettings(base_url="", title="Small-Cap Weekly")
    assert config.path == str(ROOT / "feeds.yaml")


def test_default_config_path() -> None:
    assert default_config_path() == Path("feeds.yaml")


def test_schemas_cover_exactly_the_model_fields() -> None:
    for section, (cls, schema) in cfg.SETTINGS.items():
        assert set(schema) == {f.name for f in dataclasses.fields(cls)}, section
    assert set(cfg.ANALYSIS) == {f.name for f in dataclasses.fields(Slots)}
    assert set(cfg.FEED) == {f.name for f in dataclasses.fields(Feed)}
    assert set(cfg.INSTRUMENT) == {f.name for f in dataclasses.fields(Instrument)} - {"roles"} | {"role"}


def test_feed_topics_are_the_headline_themes() -> None:
    from generator.analysis.headlines import THEMES

    assert set(cfg.TOPICS) == set(THEMES)


# --- valid variations -----------------------------------------------------------------------------------


def test_missing_sections_fall_back_to_defaults(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path, BASE)))
    assert config.path == str(tmp_path / "feeds.yaml")
    assert config.feeds == ()
    assert (config.brief, config.network, config.site, config.email) == (
        BriefSettings(),
        NetworkSettings(),
        SiteSettings(),
        EmailSettings(),
    )
    assert config.universe[0] == Instrument("^RUT", "Russell 2000", ("small_cap",), None, True)
    assert config.universe[1].roles == ("large_cap", "size_ladder")
    assert config.slots.ladder_labels == ("Small", "Large")


def test_partial_sections_keep_other_defaults(tmp_path: Path) -> None:
    text = BASE + (
        "brief: {week_ends_on: Friday, timezone: Europe/London}\n"
        "network: {feed_timeout: 5, max_redirects: 0, allow_hosts: [127.0.0.1, '::1']}\n"
        "email: {to: [a@example.com, 'Bob <bob@example.org>'], list_unsubscribe: '<mailto:u@example.com>, "
        "<https://example.com/u>'}\n"
        "site: {base_url: 'https://me.github.io/brief/'}\n"
        "news: []\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.brief == BriefSettings(timezone="Europe/London", week_ends_on="friday")
    assert config.network.feed_timeout == 5.0 and isinstance(config.network.feed_timeout, float)
    assert config.network.max_redirects == 0
    assert config.network.allow_hosts == ("127.0.0.1", "::1")
    assert config.network.feed_deadline == NetworkSettings().feed_deadline
    assert config.email.to == ("a@example.com", "Bob <bob@example.org>")
    assert config.email.sender == EmailSettings().sender
    assert config.site.base_url == "https://me.github.io/brief/"
    assert config.feeds == ()


def test_anchors_and_aliases_are_fine(tmp_path: Path) -> None:
    text = BASE + (
        "news:\n"
        "  - {name: a, outlet: A, url: 'https://a.example/rss', topics: &t [fed, rates]}\n"
        "  - {name: b, outlet: B, url: 'http://b.example:8080/feed.xml', topics: *t}\n"
    )
    config = load_config(write(tmp_path, text))
    assert [f.topics for f in config.feeds] == [("fed", "rates"), ("fed", "rates")]


# --- file-level problems --------------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    assert info.value.problems == ("file not found",)
    assert str(info.value) == f"{missing}: file not found"


def test_a_file_too_large_to_be_a_configuration_is_not_read_whole(tmp_path: Path) -> None:
    """`check --config /dev/zero` read until memory ran out; reading stops past a megabyte."""
    with pytest.raises(ConfigError) as info:
        load_config("/dev/zero")
    assert info.value.problems == ("file is larger than 1,000,000 bytes: not a configuration",)


def test_directory_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.path == str(tmp_path)
    assert info.value.problems[0].startswith("cannot read the file")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(b"brief:\n  title: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == ("file is not UTF-8 text",)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    assert problems(tmp_path, text) == ["file is empty: it needs at least a universe"]


def test_invalid_yaml_syntax_reports_its_line(tmp_path: Path) -> None:
    text = BASE + "brief:\n  title: [unclosed\n  timezone: UTC\n"
    found = single(tmp_path, text)
    assert found.startswith("invalid YAML: ")
    assert found.endswith(f"(line {line_of(text, 'timezone: UTC')})")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert single(tmp_path, "- a\n- b\n").startswith(
        "top level: must be a mapping with keys brief, universe,"
    )


# --- unsafe YAML and duplicate keys ---------------------------------------------------------------------


def test_python_tag_is_refused_as_unsafe(tmp_path: Path) -> None:
    text = BASE + "brief:\n  title: !!python/object/apply:os.system ['touch pwned']\n"
    assert problems(tmp_path, text) == [
        f"brief.title: unsafe YAML: tag !!python/object/apply:os.system is not allowed "
        f"(line {line_of(text, 'python')})"
    ]
    assert not (tmp_path / "pwned").exists()


def test_unsafe_tag_anywhere_is_refused_even_under_an_unknown_key(tmp_path: Path) -> None:
    text = BASE + "extra:\n  - !!python/name:os.system ''\n  - !custom x\n"
    assert problems(tmp_path, text) == [
        f"extra[0]: unsafe YAML: tag !!python/name:os.system is not allowed (line {line_of(text, 'python')})",
        f"extra[1]: unsupported tag !custom (line {line_of(text, '!custom')})",
    ]


def test_duplicate_keys_in_the_yaml(tmp_path: Path) -> None:
    text = (
        UNIVERSE.replace("{symbol: ^RUT,", "{symbol: ^RUT, symbol: ^RUT,")
        + ANALYSIS
        + "brief: {title: A}\nbrief: {title: B}\n"
    )
    assert problems(tmp_path, text) == [
        "universe[0].symbol: duplicate key (first on line 2) (line 2)",
        f"brief: duplicate key (first on line {line_of(text, 'title: A')}) "
        f"(line {line_of(text, 'title: B')})",
    ]


# --- unknown keys, missing keys, wrong types ------------------------------------------------------------


def test_unknown_keys_at_every_level_say_what_is_allowed(tmp_path: Path) -> None:
    text = (
        BASE
        + "feeds: []\nbrief:\n  titel: X\n"
        + "news:\n  - {name: a, outlet: A, url: 'https://a.example', tags: []}\n"
    )
    assert problems(tmp_path, text) == [
        "feeds: unknown key (allowed: brief, universe, analysis, proxies, news, headlines, network, site,"
        " email, fred, calendar, index, valuation) "
        f"(line {line_of(text, 'feeds')})",
        f"brief.titel: unknown key (allowed: title, timezone, week_ends_on, history_years) "
        f"(line {line_of(text, 'titel')})",
        f"news[0].tags: unknown key (allowed: name, outlet, url, topics, weight) "
        f"(line {line_of(text, 'tags')})",
    ]


def test_missing_universe(tmp_path: Path) -> None:
    text = "brief:\n  title: X\n"
    assert problems(tmp_path, text) == ["top level: missing required key 'universe' (line 1)"]


@pytest.mark.parametrize("value", ["[]", "", "foo"])
def test_universe_must_be_a_non_empty_list(tmp_path: Path, value: str) -> None:
    found = single(tmp_path, f"brief: {{}}\nuniverse: {value}\n")
    assert found.startswith("universe: must be a non-empty list, not ")
    assert found.endswith("(line 2)")


def test_missing_required_keys_in_items(tmp_path: Path) -> None:
    text = BASE + "news:\n  - name: a\n    url: https://a.example/rss\n"
    text = text.replace("{symbol: KRE, name: SPDR S&P Regional Banking ETF,", "{symbol: KRE,")
    assert problems(tmp_path, text) == [
        f"universe[2]: missing required key 'name' (line {line_of(text, 'KRE')})",
        f"news[0]: missing required key 'outlet' (line {line_of(text, 'name: a')})",
    ]


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("network: {feed_timeout: '10'}", "network.feed_timeout: must be a number, not a string ('10')"),
        ("network: {feed_timeout: 10s}", "network.feed_timeout: must be a number, not a string ('10s')"),
        (
            "network: {max_redirects: true}",
            "network.max_redirects: must be a whole number, not a boolean ('true')",
        ),
        (
            "network: {max_feed_bytes: 1.5}",
            "network.max_feed_bytes: must be a whole number, not a decimal number ('1.5')",
        ),
        ("brief: {history_years: [3]}", "brief.history_years: must be a whole number, not a list"),
        ("brief: {title: 2024}", "brief.title: must be a string, not an integer ('2024')"),
        ("brief: {title: }", "brief.title: must be a string, not empty"),
        ("brief: {title: '  '}", "brief.title: must not be empty"),
        (
            "email: {list_unsubscribe_post: 'yes'}",
            "email.list_unsubscribe_post: must be true or false, not a string ('yes')",
        ),
        ("email: {to: a@example.com}", "email.to: must be a list, not a string ('a@example.com')"),
        ("network: {allow_hosts: }", "network.allow_hosts: must be a list, not empty"),
        ("site: {title: {a: 1}}", "site.title: must be a string, not a mapping"),
        ("site: [a]", "site: must be a mapping with keys title, base_url, not a list"),
    ],
)
def test_wrong_types(tmp_path: Path, section: str, expected: str) -> None:
    text = BASE + section + "\n"
    assert single(tmp_path, text) == f"{expected} (line {text.count(chr(10))})"


def test_required_flag_must_be_a_boolean_not_an_integer(tmp_path: Path) -> None:
    text = BASE.replace("required: true", "required: 1")
    assert (
        single(tmp_path, text) == "universe[0].required: must be true or false, not an integer ('1') (line 2)"
    )


# --- universe -------------------------------------------------------------------------------------------


def test_duplicate_symbols_any_case(tmp_path: Path) -> None:
    text = BASE.replace("analysis:", "  - {symbol: kre, name: Again, role: credit}\nanalysis:")
    assert single(tmp_path, text) == (
        "universe[3].symbol: duplicate symbol 'kre' (first at universe[2], line 4) (line 5)"
    )


def test_bad_symbol(tmp_path: Path) -> None:
    text = BASE.replace("analysis:", "  - {symbol: ../x, name: X, role: credit}\nanalysis:")
    assert single(tmp_path, text) == (
        "universe[3].symbol: '../x' is not a valid symbol (letters, digits and ^ . = - _) (line 5)"
    )


def test_roles_must_be_known_as_string_or_list(tmp_path: Path) -> None:
    text = (
        BASE.replace("role: small_cap,", "role: smallcap,")
        .replace("role: [large_cap, size_ladder]", "role: [large_cap, mega, large_cap]")
        .replace("analysis:", "  - {symbol: HYG, name: High yield, role: []}\nanalysis:")
    )
    allowed = "small_cap, size_ladder, style, large_cap, rates, volatility, credit, sector"
    assert problems(tmp_path, text) == [
        f"universe[0].role: role 'smallcap' is not one of {allowed} (line 2)",
        f"universe[1].role[1]: role 'mega' is not one of {allowed} (line 3)",
        "universe[1].role[2]: 'large_cap' is listed twice (line 3)",
        "universe[3].role: must be a non-empty list, not an empty list (line 5)",
    ]


def test_duplicate_role_in_list(tmp_path: Path) -> None:
    text = BASE.replace("role: [large_cap, size_ladder]", "role: [large_cap, large_cap]")
    assert single(tmp_path, text) == "universe[1].role[1]: 'large_cap' is listed twice (line 3)"


def test_sector_only_with_role_sector_and_required_there(tmp_path: Path) -> None:
    text = BASE.replace("role: small_cap,", "role: small_cap, sector: Tech,").replace(
        ", sector: Regional Banks}", "}"
    )
    assert problems(tmp_path, text) == [
        "universe[0].sector: only allowed with role 'sector' (line 2)",
        "universe[2]: role 'sector' needs a 'sector' name (line 4)",
    ]


# --- brief, network, site, email ------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["Funday", "monday", "Wednesday"])
def test_week_ends_on_must_be_a_weekday_that_ends_a_week(tmp_path: Path, day: str) -> None:
    """A week runs from Monday to this day: a week ending on Monday was a one-session "week"."""
    text = BASE + f"brief:\n  week_ends_on: {day}\n"
    assert single(tmp_path, text) == (
        f"brief.week_ends_on: weekday {day.lower()!r} is not one of thursday, friday, saturday, sunday"
        f" (line {line_of(text, day)})"
    )
    assert (
        load_config(write(tmp_path, BASE + "brief:\n  week_ends_on: Thursday\n")).brief.week_ends_on
        == "thursday"
    )


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "EST5EDT/x"])
def test_timezone_must_be_a_zoneinfo_name(tmp_path: Path, zone: str) -> None:
    text = BASE + f"brief:\n  timezone: '{zone}'\n"
    assert single(tmp_path, text) == (
        f"brief.timezone: unknown time zone {zone!r} (use an IANA name such as America/New_York) "
        f"(line {line_of(text, 'timezone')})"
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("feed_timeout: 0", "network.feed_timeout: must be positive, not 0"),
        ("feed_deadline: -3.5", "network.feed_deadline: must be positive, not -3.5"),
        ("market_deadline: .nan", "network.market_deadline: must be positive, not .nan"),
        ("market_deadline: .inf", "network.market_deadline: must be positive, not .inf"),
        ("max_feed_bytes: 0", "network.max_feed_bytes: must be positive, not 0"),
        ("max_redirects: -1", "network.max_redirects: must be zero or more, not -1"),
        # Bounds: a typo passed `check` and then failed every build (a deadline past the clock's end).
        ("feed_deadline: 100000000000", "network.feed_deadline: must be at most 3,600, not 100000000000"),
        ("feed_timeout: 601", "network.feed_timeout: must be at most 600, not 601"),
        (
            "max_feed_bytes: 1000000000000",
            "network.max_feed_bytes: must be at most 100,000,000, not 1000000000000",
        ),
        ("max_redirects: 21", "network.max_redirects: must be at most 20, not 21"),
        (
            "allow_hosts: ['http://x/']",
            "network.allow_hosts[0]: 'http://x/' is not a host name or IP address",
        ),
        ("user_agent: ''", "network.user_agent: must not be empty"),
    ],
)
def test_network_numbers_and_hosts(tmp_path: Path, entry: str, expected: str) -> None:
    text = BASE + f"network:\n  {entry}\n"
    assert single(tmp_path, text) == f"{expected} (line {text.count(chr(10))})"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/feed", "scheme must be http or https"),
        ("javascript:alert(1)", "scheme must be http or https"),
        ("file:///etc/passwd", "scheme must be http or https"),
        ("example.com/rss", "scheme must be http or https"),
        ("https://", "URL has no host"),
        ("https://exa mple.com/", "URL must not contain spaces or control characters"),
        ("http://example.com:99999/", "not a valid URL (Port out of range 0-65535)"),
        # A password in a feed URL was printed by `check` and recorded in every issue's snapshot.
        ("https://alice:S3cret@example.com/rss", "URL must not carry a user name or password"),
        ("https://alice@example.com/rss", "URL must not carry a user name or password"),
    ],
)
def test_feed_urls_must_be_http_with_a_host(tmp_path: Path, url: str, message: str) -> None:
    text = BASE + (
        "news:\n"
        "  - {name: ok-1, outlet: A, url: 'https://a.example/rss'}\n"
        "  - {name: ok_2, outlet: B, url: 'https://b.example/rss'}\n"
        f"  - name: bad\n    outlet: C\n    url: '{url}'\n"
    )
    found = single(tmp_path, text)
    assert found.startswith(f"news[2].url: {message}") and found.endswith(
        f"(line {line_of(text, 'url: ' + repr(url))})"
    )
    assert "S3cret" not in found


def test_feed_names_are_unique_and_file_safe(tmp_path: Path) -> None:
    text = BASE + (
        "news:\n"
        "  - {name: cnbc, outlet: A, url: 'https://a.example/rss'}\n"
        "  - {name: CNBC, outlet: B, url: 'https://b.example/rss'}\n"
        "  - {name: ../evil, outlet: C, url: 'https://c.example/rss'}\n"
        "  - {name: 'a b', outlet: D, url: 'https://d.example/rss'}\n"
        "  - {name: e, outlet: E, url: 'https://e.example/rss', topics: [fed, gossip]}\n"
    )
    safe = "is not a safe file name (letters, digits, - and _ only)"
    topics = ", ".join(cfg.TOPICS)
    assert problems(tmp_path, text) == [
        f"news[1].name: duplicate name 'CNBC' (first at news[0], line {line_of(text, 'cnbc')}) "
        f"(line {line_of(text, 'CNBC')})",
        f"news[2].name: '../evil' {safe} (line {line_of(text, 'evil')})",
        f"news[3].name: 'a b' {safe} (line {line_of(text, 'a b')})",
        f"news[4].topics[1]: topic 'gossip' is not one of {topics} (line {line_of(text, 'gossip')})",
    ]


def test_feed_weight_and_headline_floor(tmp_path: Path) -> None:
    text = BASE + (
        "headlines:\n  min_score: 2.5\n"
        "news:\n"
        "  - {name: a, outlet: A, url: 'https://a.example/rss', weight: 1.5}\n"
        "  - {name: b, outlet: B, url: 'https://b.example/rss', weight: 0}\n"
        "  - {name: c, outlet: C, url: 'https://c.example/rss'}\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.headlines == HeadlineSettings(min_score=2.5)
    assert [f.weight for f in config.feeds] == [1.5, 0.0, 1.0]
    assert load_config(write(tmp_path, BASE)).headlines == HeadlineSettings()


def test_bad_feed_weight_and_headline_floor_name_key_and_line(tmp_path: Path) -> None:
    text = BASE + (
        "headlines:\n  min_score: high\n  max: 3\n"
        "news:\n"
        "  - {name: a, outlet: A, url: 'https://a.example/rss', weight: -1}\n"
        "  - {name: b, outlet: B, url: 'https://b.example/rss', weight: '2'}\n"
    )
    quoted, high = line_of(text, "weight: '2'"), line_of(text, "min_score: high")
    assert problems(tmp_path, text) == [
        f"headlines.min_score: must be a number, not a string ('high') (line {high})",
        f"headlines.max: unknown key (allowed: min_score) (line {line_of(text, 'max:')})",
        f"news[0].weight: must be zero or more, not -1 (line {line_of(text, '-1')})",
        f"news[1].weight: must be a number, not a string ('2') (line {quoted})",
    ]
    assert single(tmp_path, BASE + "headlines: [1]\n") == (
        f"headlines: must be a mapping with keys min_score, not a list (line {len(BASE.splitlines()) + 1})"
    )


def test_news_must_be_a_list(tmp_path: Path) -> None:
    text = BASE + "news: {name: a}\n"
    assert (
        single(tmp_path, text)
        == f"news: must be a list ([] for none), not a mapping (line {line_of(text, 'news')})"
    )


def test_site_base_url_is_empty_or_http(tmp_path: Path) -> None:
    text = BASE + "site:\n  base_url: me.github.io\n"
    line = line_of(text, "me.github")
    assert (
        single(tmp_path, text)
        == f"site.base_url: the site's address must be an absolute http(s) URL (line {line})"
    )


def test_the_sp600_universe_is_off_unless_a_holdings_workbook_is_set(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, BASE)).index.sp600 == ""
    url = "https://www.ssga.com/us/en/intermediary/library-content/products/fund-data/etfs/us/x-sly.xlsx"
    config = load_config(write(tmp_path, BASE + f"index:\n  sp600: {url}\n"))
    assert config.index.sp600 == url and config.index.holdings  # the IWM file keeps its default
    assert f"S&P 600 members (kept in the snapshot): holdings from {url}" in describe(config)
    text = BASE + "index:\n  sp600: ftp://example.com/sly.xlsx\n"
    assert single(tmp_path, text).startswith("index.sp600: ")


def test_email_addresses_are_loosely_checked(tmp_path: Path) -> None:
    text = BASE + (
        "email:\n"
        "  sender: Small-Cap Weekly\n"
        "  to: [a@example.com, nope, 'x@y']\n"
        "  list_unsubscribe: 'mailto:u@example.com'\n"
    )
    hint = "is not an email address (name@example.com or Name <name@example.com>)"
    line = line_of(text, "nope")
    assert problems(tmp_path, text) == [
        f"email.sender: 'Small-Cap Weekly' {hint} (line {line_of(text, 'sender')})",
        f"email.to[1]: 'nope' {hint} (line {line})",
        f"email.to[2]: 'x@y' {hint} (line {line})",
        "email.list_unsubscribe: 'mailto:u@example.com' must be <mailto:...> or <https://...>, "
        f"comma-separated (line {line_of(text, 'list_unsubscribe')})",
    ]


# --- analysis -------------------------------------------------------------------------------------------


def test_analysis_symbols_must_be_in_the_universe(tmp_path: Path) -> None:
    text = (
        BASE.replace("  vix: ^RUT", "  vix: VIXX")
        .replace("ladder: [^RUT, ^GSPC]", "ladder: [^RUT, IWM, ^GSPC]")
        .replace("[Small, Large]", "[Small, Mid, Large]")
    )
    assert problems(tmp_path, text) == [
        f"analysis.vix: 'VIXX' is not in the universe (line {line_of(text, 'VIXX')})",
        f"analysis.ladder[1]: 'IWM' is not in the universe (line {line_of(text, 'ladder:')})",
    ]


def test_ladder_and_labels_have_the_same_length(tmp_path: Path) -> None:
    text = BASE.replace("[Small, Large]", "[Micro, Small, Large]")
    assert single(tmp_path, text) == (
        f"analysis.ladder_labels: has 3 labels for 2 ladder symbols (line {line_of(text, 'ladder_labels')})"
    )


def test_unknown_analysis_key(tmp_path: Path) -> None:
    text = BASE + "  bench: ^RUT\n"
    found = single(tmp_path, text)
    assert found.startswith("analysis.bench: unknown key (allowed: benchmark, large_cap, nasdaq, ladder,")
    assert found.endswith(f"(line {line_of(text, 'bench:')})")


def test_missing_analysis_block_checks_the_defaults(tmp_path: Path) -> None:
    found = problems(tmp_path, UNIVERSE)
    assert "analysis.benchmark" not in " ".join(found)  # ^RUT is in this universe
    assert "analysis.large_cap" not in " ".join(found)
    # reported at the start of the universe, since there is no analysis block to point at
    assert "analysis.nasdaq: '^IXIC' (the default) is not in the universe (line 2)" in found
    assert "analysis.ladder[0]: 'IWC' (the default) is not in the universe (line 2)" in found
    assert len(found) == 17  # every default slot symbol outside this three-symbol universe


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = BASE.replace("  vix: ^RUT", "  vix: VIXX") + (
        "brief:\n"
        "  timezone: Nowhere/City\n"
        "  colour: blue\n"
        "network:\n"
        "  feed_timeout: -1\n"
        "news:\n"
        "  - {name: a, outlet: A, url: 'https://a.example/rss'}\n"
        "  - {name: b, outlet: B, url: 'https://b.example/rss'}\n"
        "  - {name: c, outlet: C, url: 'gopher://c.example/'}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    found = info.value.problems
    assert [p.split(":")[0] for p in found] == [
        "analysis.vix",
        "brief.timezone",
        "brief.colour",
        "network.feed_timeout",
        "news[2].url",
    ]
    assert found[-1] == f"news[2].url: scheme must be http or https (line {line_of(text, 'gopher')})"
    assert str(info.value) == f"{tmp_path / 'feeds.yaml'}: {found[0]} (+4 more)"


# --- describe -------------------------------------------------------------------------------------------


def test_describe_the_real_config() -> None:
    config = load_config(ROOT / "feeds.yaml")
    lines = describe(config)
    text = "\n".join(lines)
    assert lines[0] == f"Config: {config.path}"
    assert lines[1] == (
        "Brief: 'Small-Cap Weekly', time zone America/New_York, weeks end on Friday, 12 years of history"
    )
    assert "Universe: 32 symbols" in lines
    assert "  small_cap (4):" in lines
    assert "  sector (10):" in lines
    assert "    ^RUT    Russell 2000 (required)" in lines
    assert "    KRE     SPDR S&P Regional Banking ETF — Regional Banks" in lines
    for instrument in config.universe:
        assert any(line.strip().startswith(instrument.symbol + " ") for line in lines), instrument.symbol
    assert "News feeds: 8" in lines
    for feed in config.feeds:
        assert any(feed.name in line and feed.url in line for line in lines), feed.name
    assert (
        "  fed-press (Federal Reserve): https://www.federalreserve.gov/feeds/press_all.xml [fed, rates]"
        in lines
    )
    assert "ladder IWC (Micro), IWM (Small), IWR (Mid), IWB (Large), OEF (Mega)" in text
    assert (
        "Network: 10 s per feed, 30 s for all feeds, 90 s for market data, at most 5,000,000 bytes per feed, "
        "5 redirects; private hosts allowed: none"
    ) in lines
    assert (
        "Email: from Small-Cap Weekly <brief@example.com> to none configured; "
        "subject prefix 'Small-Cap Weekly'"
    ) in lines
    assert lines[-1] == "List-Unsubscribe: not set"


def test_describe_lists_a_symbol_under_each_of_its_roles(tmp_path: Path) -> None:
    text = BASE + "news: []\nsite: {base_url: 'https://x.example/'}\nemail: {to: [a@example.com]}\n"
    lines = describe(load_config(write(tmp_path, text)))
    gspc = "    ^GSPC  S&P 500"
    headers = [lines[n - 1] for n, line in enumerate(lines) if line == gspc]
    assert headers == ["  size_ladder (1):", "  large_cap (1):"]  # in the order of models.ROLES
    assert "News feeds: 0" in lines
    assert "Site: 'Small-Cap Weekly' at https://x.example/" in lines
    assert any(
        line.startswith("Email: from Small-Cap Weekly <brief@example.com> to a@example.com;")
        for line in lines
    )


def test_dates_and_merge_keys_are_plain_problems(tmp_path: Path) -> None:
    text = BASE + "brief: &b\n  title: 2024-01-05\nsite:\n  <<: *b\n"
    assert problems(tmp_path, text) == [
        f"brief.title: must be a string, not a date ('2024-01-05') (line {line_of(text, '2024')})",
        f"site.<<: unknown key (allowed: title, base_url) (line {line_of(text, '<<')})",
    ]


def test_absurdly_deep_nesting_is_invalid_yaml_not_a_crash(tmp_path: Path) -> None:
    text = BASE + "brief: " + "[" * 5000 + "]" * 5000 + "\n"
    line = line_of(text, "brief: [")
    assert single(tmp_path, text) == f"invalid YAML: nested more than 100 levels deep (line {line})"
    unclosed = BASE + "brief: " + "[" * 5000 + "\n"  # refused as soon as it goes too deep, not composed
    assert single(tmp_path, unclosed) == f"invalid YAML: nested more than 100 levels deep (line {line})"
    # 99 brackets under the top-level mapping nest 100 deep: wrong for `brief`, but valid YAML
    shallow = single(tmp_path, BASE + "brief: " + "[" * 99 + "]" * 99 + "\n")
    assert not shallow.startswith("invalid YAML"), shallow


def test_proxies_map_universe_indexes_to_their_etfs(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE + "proxies:\n  ^GSPC: SPY\n  ^RUT: {etf: IWM}\n"))
    assert config.proxies == (("^GSPC", "SPY"), ("^RUT", "IWM")) and config.proxy_names == ()
    default = Config(path="", universe=(), feeds=())
    assert load_config(write(tmp_path, BASE)).proxies == default.proxies
    assert (
        load_config(write(tmp_path, BASE)).proxy_names
        == default.proxy_names
        == (("QQQ", "Nasdaq-100 (QQQ)"),)
    )
    shipped = load_config(ROOT / "feeds.yaml")
    assert (shipped.proxies, shipped.proxy_names) == (default.proxies, default.proxy_names)
    assert (
        "Proxies: SPY for ^GSPC, QQQ for ^IXIC (called Nasdaq-100 (QQQ)), IWM for ^RUT"
        " (when the index is missing, stale or much shorter)"
    ) in describe(shipped)
    assert "Proxies: none (when the index is missing, stale or much shorter)" in describe(
        load_config(write(tmp_path, BASE + "proxies: {}\n"))
    )
    # a name belongs to its ETF: another fund standing in for ^IXIC is not called the Nasdaq-100
    other = Config(path="", universe=(), feeds=(), proxies=(("^IXIC", "ONEQ"),))
    assert "Proxies: ONEQ for ^IXIC (when the index is missing, stale or much shorter)" in describe(other)


def test_a_proxy_that_tracks_another_index_is_called_by_its_own_name(tmp_path: Path) -> None:
    text = BASE + "proxies:\n  ^GSPC: {etf: SPY, name: S&P 500 tracker (SPY)}\n"
    config = load_config(write(tmp_path, text))
    assert config.proxies == (("^GSPC", "SPY"),) and config.proxy_names == (("SPY", "S&P 500 tracker (SPY)"),)
    bad = BASE + "proxies:\n  ^GSPC: {name: Tracker}\n  ^RUT: {etf: IWM, ticker: IWM}\n"
    assert problems(tmp_path, bad) == [
        f"proxies.^GSPC: missing required key 'etf' (line {line_of(bad, '{name: Tracker}')})",
        f"proxies.^RUT.ticker: unknown key (allowed: etf, name) (line {line_of(bad, 'ticker: IWM')})",
    ]


def test_proxy_errors_name_the_key_and_line(tmp_path: Path) -> None:
    text = BASE + "proxies:\n  ^IXIC: QQQ\n  ^RUT: ^RUT\n  ^GSPC: 'S P Y'\n"
    found = problems(tmp_path, text)
    assert (
        f"proxies.^IXIC: '^IXIC' is not a symbol of the universe (line {line_of(text, '^IXIC: QQQ')})"
        in found
    )
    assert f"proxies.^RUT: an index cannot stand in for itself (line {line_of(text, '^RUT: ^RUT')})" in found
    assert any(p.startswith("proxies.^GSPC: ") and "valid symbol" in p for p in found), found
    assert single(tmp_path, BASE + "proxies: [SPY]\n").startswith("proxies: must be a mapping of index: ETF")


def test_calendar_earnings_sets_how_many_reporting_members_are_listed(tmp_path: Path) -> None:
    config = load_config(ROOT / "feeds.yaml")
    assert (config.calendar.earnings.top, config.calendar.earnings.deadline) == (10, 60.0)
    assert any(
        line.startswith("Earnings: the 10 largest index members reporting next week")
        for line in describe(config)
    )
    off = load_config(write(tmp_path, BASE + "calendar:\n  earnings: {top: 0, deadline: 5}\n"))
    assert (off.calendar.earnings.top, off.calendar.earnings.deadline) == (0, 5.0)
    assert any(line.startswith("Earnings: off") for line in describe(off))
    found = problems(tmp_path, BASE + "calendar:\n  earnings: {top: ten, size: 3, deadline: -1}\n")
    assert [p.split(" (line")[0] for p in found] == [
        "calendar.earnings.top: must be a whole number, not a string ('ten')",
        "calendar.earnings.size: unknown key (allowed: top, deadline)",
        "calendar.earnings.deadline: must be positive, not -1",
    ]
    assert single(tmp_path, BASE + "calendar:\n  earnings: 10\n").startswith(
        "calendar.earnings: must be a mapping with keys top, deadline, not an integer ('10')"
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "site:\n  base_url: 'https://x.example/b?q=1'",
            "site.base_url: the site's address has a query or fragment",
        ),
        (
            "site:\n  base_url: 'https://x.example/b/#top'",
            "site.base_url: the site's address has a query or fragment",
        ),
        (  # what --base-url and the site refuse, the configuration check refuses too
            'site:\n  base_url: "https://x.example/a\'b<c>/"',
            "site.base_url: the site's address has spaces, control characters, quotes, <> or backslashes",
        ),
        ("site:\n  base_url: 'http://[::1'", "site.base_url: the site's address is not a valid URL"),
        (
            "index:\n  holdings: 'javascript:alert(1)'",
            "index.holdings: an http(s) URL or a local file, not a javascript:",
        ),
        (
            "index:\n  sp600: 'ftp:/x/y.xlsx'",
            "index.sp600: an http(s) URL or a local file, not a ftp: address",
        ),
    ],
)
def test_the_site_address_takes_no_query_and_a_holdings_file_no_other_scheme(
    tmp_path: Path, entry: str, expected: str
) -> None:
    """Pages are added after the site's address ("…/b?q=1/briefs/…" broke every link), and a holdings
    location is a URL or a file: `javascript:` passed as a file name."""
    assert single(tmp_path, BASE + entry + "\n").startswith(expected)


@pytest.mark.parametrize(
    "path", ["C:\\\\data\\\\IWM_holdings.csv", "file:///srv/IWM.csv", "data/IWM.csv", ""]
)
def test_holdings_may_be_a_local_file_a_drive_path_or_off(tmp_path: Path, path: str) -> None:
    load_config(write(tmp_path, BASE + f"index:\n  holdings: '{path}'\n"))
