"""Lighthouse audits of the built site: SEO and accessibility, as search engines and readers see it;
and its tables on a desktop screen.

The bundled sample, built through the real command line (the CLI smoke test's build,
tests/conftest.py), is published with ``build_site`` and served on loopback at the origin's
root (so Lighthouse finds robots.txt where crawlers look for it); the base URL is the server's
own, so canonical links and the sitemap point at the pages being audited.  Lighthouse (npm,
pinned in package.json; ``npm ci`` installs it) drives Debian's Chromium headless shell (the full
browser, headless, where the shell is not installed), in a fresh, empty profile under the test's
tmp folder.

Needs node, node_modules/.bin/lighthouse and a Chromium: without them the test skips,
and under CI=true that skip is a failure.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from generator.publish.site import build_site
from tests.conftest import ROOT, SAMPLE_BUILD_GROUP, browser_flags, chromium_binary, phone_browser

LIGHTHOUSE = Path(os.environ.get("SMALLCAP_LIGHTHOUSE", ROOT / "node_modules" / ".bin" / "lighthouse"))
CHROMIUM = chromium_binary()
CHROME_FLAGS = browser_flags(CHROMIUM)
TARGETS = {"seo": 0.95, "accessibility": 1.0}
# Lighthouse's default configuration cut to these categories: it imports only their audits (see the file)
CONFIG = Path(__file__).with_name("lighthouse_config.mjs")


def _require(path: Path | None, what: str) -> Path:
    if path is not None and path.exists():
        return path
    reason = f"Lighthouse test needs {what}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (under CI=true a missing tool is a failure)")
    pytest.skip(reason)


def _node() -> Path:
    found = shutil.which("node")
    return _require(Path(found) if found else None, "node (Debian package nodejs)")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin(
    tmp_path_factory: pytest.TempPathFactory, cli_sample_build: tuple[Path, subprocess.CompletedProcess[str]]
) -> Iterator[tuple[str, str]]:
    """The sample issue built by the CLI, published as a site and served at a loopback origin's root.

    Yields the origin's URL and the issue page's path.
    """
    _node()
    _require(LIGHTHOUSE, f"{LIGHTHOUSE} (`make test` runs `npm ci` in the project root)")
    _require(CHROMIUM, f"{CHROMIUM} (Debian package chromium-headless-shell or chromium)")
    site = tmp_path_factory.mktemp("lighthouse") / "site"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    out, built = cli_sample_build
    assert built.returncode == 0, built.stderr[-3000:]
    result = build_site(out, site, title="Small-Cap Weekly", base_url=base, allow_sample=True)
    assert len(result.issues) == 1
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield base, f"briefs/{result.issues[0].isoformat()}/"
    finally:
        server.shutdown()
        server.server_close()


def _audit(url: str, work: Path) -> dict[str, Any]:
    """Run Lighthouse on ``url`` (SEO and accessibility only) and return its JSON report."""
    report = work / "report.json"
    # chrome-launcher makes a fresh, empty profile in TMPDIR and removes it after; a short path,
    # since Chrome's profile lock is a Unix socket whose path must fit in 107 bytes
    tmp = Path(tempfile.mkdtemp(prefix="lh-"))
    command = [
        str(_node()),
        str(LIGHTHOUSE),
        url,
        f"--config-path={CONFIG}",  # the SEO and accessibility categories only
        "--output=json",
        f"--output-path={report}",
        f"--chrome-flags={' '.join(CHROME_FLAGS)}",
        # The pages are static (no script; stylesheets and images load before the load event), so
        # the audit starts at the load event: Lighthouse's extra waits for a quiet network and CPU
        # serve performance traces, which are not audited here.  (The default throttling method,
        # "simulate", throttles nothing while it gathers and lets these be set; an observed method
        # would force each to 5.25 s.)
        *("--pause-after-fcp-ms=0", "--pause-after-load-ms=0"),
        *("--network-quiet-threshold-ms=0", "--cpu-quiet-threshold-ms=0"),
        "--disable-full-page-screenshot",
        "--no-enable-error-reporting",
        "--quiet",
    ]
    env = {**os.environ, "CHROME_PATH": str(CHROMIUM), "TMPDIR": str(tmp)}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=work)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(report.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _lost_points(report: dict[str, Any], category: str) -> list[str]:
    """The audits that cost the category points: id, score and Lighthouse's title."""
    audits = report["audits"]
    lost = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = audits[ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            lost.append(f"{ref['id']} ({audit['score']}): {audit['title']}")
    return lost


# The issue page by default: it is the richest page and the one readers land on; the home page's
# head tags are checked in test_site.py.  SMALLCAP_LIGHTHOUSE_PAGES=home,issue audits both.
PAGES = tuple(os.environ.get("SMALLCAP_LIGHTHOUSE_PAGES", "issue").split(","))


@pytest.mark.slow
@SAMPLE_BUILD_GROUP
@pytest.mark.parametrize("page", PAGES)
def test_lighthouse_seo_and_accessibility(
    origin: tuple[str, str], page: str, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    base, issue_path = origin
    url = base + (issue_path if page == "issue" else "")
    report = _audit(url, tmp_path)
    assert report["finalDisplayedUrl"] == url
    assert not report.get("runtimeError"), report.get("runtimeError")
    assert set(report["categories"]) == set(TARGETS)  # what lighthouse_config.mjs keeps
    scores = {name: report["categories"][name]["score"] for name in TARGETS}
    for name, score in scores.items():
        record_property(f"lighthouse_{name}", score)
    sys.stderr.write(f"lighthouse {page}: {scores}\n")
    audits = report["audits"]
    assert audits["robots-txt"]["score"] == 1  # served, parsed, valid
    assert audits["meta-description"]["score"] == 1 and audits["canonical"]["score"] == 1
    for name, target in TARGETS.items():
        assert scores[name] >= target, f"{name} {scores[name]} < {target}: {_lost_points(report, name)}"


@SAMPLE_BUILD_GROUP
def test_share_image_and_site_files_of_the_sample_are_served(origin: tuple[str, str]) -> None:
    base, issue_path = origin
    with urllib.request.urlopen(base + issue_path, timeout=10) as response:
        page = response.read().decode("utf-8")
    image = page.split('<meta property="og:image" content="', 1)[1].split('"', 1)[0]
    assert image.startswith(urljoin(base, issue_path + "charts/")) and image.endswith(".png")
    with urllib.request.urlopen(image, timeout=10) as response:
        assert response.headers["Content-Type"] == "image/png" and response.read(8) == b"\x89PNG\r\n\x1a\n"
    with urllib.request.urlopen(base + "robots.txt", timeout=10) as response:
        assert f"Sitemap: {base}sitemap.xml" in response.read().decode("utf-8")
    with urllib.request.urlopen(base + "sitemap.xml", timeout=10) as response:
        assert f"<loc>{base}{issue_path}</loc>" in response.read().decode("utf-8")


@SAMPLE_BUILD_GROUP
def test_on_a_desktop_screen_every_table_of_the_sample_fits_its_column(
    origin: tuple[str, str], tmp_path: Path
) -> None:
    """At 1280 px no table scrolls sideways (on a phone they may): the data sources' windows wrap in
    their cell (a rule meant for the date columns, by position, kept them on one line once a
    column came before those)."""
    base, issue_path = origin
    driver = phone_browser(tmp_path / "profile")
    try:
        desktop = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", desktop)
        driver.get(base + issue_path)
        wrappers = "[...document.querySelectorAll('.table-scroll')]"  # the site's scroller round each table
        count, wide = driver.execute_script(
            f"const all = {wrappers}; return [all.length, all.filter(w => w.scrollWidth > w.clientWidth + 1)"
            ".map(w => w.querySelector('table').className + ': ' + (w.scrollWidth - w.clientWidth) + ' px')];"
        )
    finally:
        driver.quit()
    assert count >= 8 and wide == []
