"""What the sample path imports: no network or mail code, and no matplotlib or weasyprint in the parent.

feedparser is imported: the snapshot keeps each feed as captured (raw XML), and the headlines
stage parses the captures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

CODE = """
import sys
from datetime import date, datetime, UTC
from pathlib import Path
from generator.config import load_config
from generator.sources.gather import gather
from generator.build import build_from_snapshot, headlines_for_week
from generator.analysis import analyse, reporting_week
config = load_config(Path("feeds.yaml"))
snapshot = gather(config, "sample", today=date(2026, 11, 23), now=datetime(2026, 11, 23, tzinfo=UTC),
                  cache_dir=Path(sys.argv[1]), week_start=date(2026, 11, 16))
week = reporting_week(snapshot.as_of, config.brief.week_ends_on)
analyse(snapshot, config, headlines_for_week(snapshot, config, week, None), as_of=snapshot.as_of)
loaded = sorted(m for m in ("requests", "urllib3", "yfinance", "smtplib", "matplotlib",
                            "weasyprint", "curl_cffi") if m in sys.modules)
print(",".join(loaded))
"""


def test_gathering_and_analysing_the_sample_imports_no_network_mail_or_drawing_code(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CODE, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported on the sample path: {done.stdout.strip()}"


WORKER = """
import pickle, sys
from pathlib import Path
brief = pickle.loads(Path(sys.argv[1]).read_bytes())
from generator.charts import render_charts
from generator.render import render_html
render_html(brief, render_charts(brief.charts), for_pdf=True)
print(",".join(sorted(m for m in sys.modules if m == "pandas" or m.startswith("generator.analysis"))))
"""


def test_the_render_worker_reads_and_draws_a_brief_without_pandas_or_the_analysis(tmp_path: Path) -> None:
    """The worker's start-up is on the build's path: it imports matplotlib and weasyprint, nothing more."""
    import pickle

    from generator.analysis import analyse
    from generator.config import load_config
    from generator.sources.snapshot import load_sample

    snapshot = load_sample()
    brief = analyse(snapshot, load_config(ROOT / "feeds.yaml"), (), as_of=snapshot.as_of)
    (tmp_path / "brief.pickle").write_bytes(pickle.dumps(brief))
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(tmp_path / "brief.pickle")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported by the worker: {done.stdout.strip()}"


WEASYPRINT = """
import subprocess
started = []
class Recording(subprocess.Popen):
    def __init__(self, args, *rest, **kwargs):
        started.append(args)
        super().__init__(args, *rest, **kwargs)
subprocess.Popen = Recording
import ctypes.util, threading
real = ctypes.util.find_library
from generator.render import load_weasyprint
loaded = []
threads = [threading.Thread(target=lambda: loaded.append(load_weasyprint())) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
assert len(loaded) == 3 and len({id(m) for m in loaded}) == 1
weasyprint = loaded[0]
pdf = weasyprint.HTML(string="<p>Small caps</p>").write_pdf()
print(len(started), pdf[:5].decode())
assert ctypes.util.find_library is real and real("c")  # the real lookup is back (it runs ldconfig)
"""


def test_weasyprint_loads_without_running_a_program_per_library_name() -> None:
    """weasyprint's library names for Windows and macOS are not looked up by running ldconfig and gcc
    (54 programs, about 0.4 s per process that lays out a PDF); threads that ask at once get the
    same module, and ctypes' lookup is given back afterwards."""
    done = subprocess.run(
        [sys.executable, "-c", WEASYPRINT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "%PDF-"]


def test_every_library_the_generator_imports_is_a_declared_dependency() -> None:
    """Each top-level module the package imports is the standard library's, the package's own, or one
    of a distribution ``pyproject.toml`` declares (not merely one that a dependency brings along)."""
    import ast
    import importlib.metadata
    import re
    import tomllib

    declared = {
        re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0].lower().replace("_", "-")
        for spec in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
            "dependencies"
        ]
    }
    imported: set[str] = set()
    for path in (ROOT / "generator").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"generator", "__future__"}
    owners = importlib.metadata.packages_distributions()
    undeclared = {
        module: owners.get(module)
        for module in third_party
        if not {d.lower().replace("_", "-") for d in owners.get(module, [])} & declared
    }
    assert len(third_party) >= 20 and undeclared == {}
