"""One-shot `syncsvc sync` as cron would run it: a fresh process each time, whole process timed.

The plan is a text table (the layout real plans have) with one dated row per event, routed to
the calendars by measure number; the state is the SQLite store in the data folder, as a real
installation keeps it. The first run writes the events (not timed); then the no-op runs are.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

from bench import runtime_env
from bench._servers import DavServer, calendar_path
from syncsvc.domain.norwegian import MONTH_NAMES as MONTHS

# (server, mode, phase) -> measured values, one per repetition (as in bench_caldav)
Samples = dict[tuple[str, str, str], list[float]]

HEADER = (
    "ARBEIDSOPPGAVER AKTIVITETER\tDATO/TID\tKNYTTET TIL TILTAK NR\tSAMARBEID/ANSVAR\t"
    "KOMPETANSE\tSYNLIGGJØRING\tANNET EGNE NOTATER"
)


def plan_text(events: int, calendars: int) -> str:
    rows = ["Årsplan 2030", "", "Våren 2030", "", HEADER]
    for n in range(events):
        day = date(2030, 1, 1) + timedelta(days=n % 360)
        when = f"{day.day}. {MONTHS[day.month - 1]}" + (" kl. 10.00–11.30" if n % 2 == 0 else "")
        rows.append(
            f"Fagdag {n} for bibliotekene\t{when}\t{n % calendars + 1}\tFylkesbiblioteket"
            f"\t\t\tNotat {n}: ta med utstyr"
        )
    return "\n".join(rows) + "\n"


def write_config(server: DavServer, urls: list[str], root: Path, events: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "plan.txt").write_text(plan_text(events, len(urls)), encoding="utf-8")
    lines = ["[plan]", 'source = "plan.txt"', "", "[sync]", 'data_dir = "data"', ""]
    lines += ["[feed]", 'calendar = ""', "", "[servers.dav]", f'url = "{server.url}"']
    if server.username:
        lines += [f'username = "{server.username}"', f'password = "{server.password}"']
    else:
        lines += ['auth = "none"']
    for k, url in enumerate(urls):
        lines += ["", "[[calendars]]", f'name = "cal{k}"', 'target = "caldav"', 'server = "dav"']
        lines += [f'url = "{calendar_path(server, url)}"', f'selector = "measure:{k + 1}"']
    config = root / "syncsvc.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def run(config: Path) -> float:
    """One `syncsvc sync` process in the runtime-only environment (bench/runtime_env.py)."""
    command = [str(runtime_env.python()), "-m", "syncsvc", "sync", "--config", str(config)]
    began = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, env=runtime_env.environ()
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"syncsvc sync failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def noop_seconds(server: DavServer, urls: list[str], root: Path, events: int, runs: int) -> float:
    """Median wall time of `runs` one-shot no-op syncs after one initial sync."""
    config = write_config(server, urls, root, events)
    run(config)
    return statistics.median(run(config) for _ in range(runs))


# What a one-shot CalDAV sync imports before its first request (tests/test_startup_imports.py
# checks what it leaves out).
STARTUP = (
    "import syncsvc.cli.main, syncsvc.settings, syncsvc.engine.run, syncsvc.plan.load, "
    "syncsvc.state.sqlite, syncsvc.targets.caldav.target"
)


def startup_line(vds: ModuleType | None) -> float:
    """Process start-up (interpreter + imports, runtime-only environment), median of 5;
    returns syncsvc's seconds."""
    ours = []
    python, env = str(runtime_env.python()), runtime_env.environ()
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run([python, "-c", STARTUP], check=True, capture_output=True, env=env)
        ours.append(time.perf_counter() - began)
    line = f"start-up (interpreter + imports): syncsvc {statistics.median(ours):.2f} s"
    if vds is not None:
        theirs = [vds.startup_seconds() for _ in range(5)]
        line += f", vdirsyncer --version {statistics.median(theirs):.2f} s"
    print(f"\n{line}")
    return statistics.median(ours)


def json_numbers(
    secs: Samples, reqs: Samples, kinds: Sequence[str], calendars: int, startup: float
) -> dict[str, float | None]:
    """The keys run_all --json reports (ratios of medians measured in the same run)."""

    def ratio_of(top: list[float], bottom: list[float]) -> float | None:
        if not top or not bottom or statistics.median(bottom) == 0:
            return None
        return statistics.median(top) / statistics.median(bottom)

    out: dict[str, float | None] = {"caldav.startup_s": startup}
    per_calendar = []
    for kind in kinds:
        out[f"caldav.{kind}.initial_vs_bare"] = ratio_of(
            secs[(kind, "bare", "initial")], secs[(kind, "ours", "initial")]
        )
        out[f"caldav.{kind}.oneshot_noop_vs_vdirsyncer"] = ratio_of(
            secs[(kind, "vds", "no-op")], secs[(kind, "oneshot", "no-op")]
        )
        if reqs[(kind, "ours", "no-op")]:
            per_calendar.append(statistics.median(reqs[(kind, "ours", "no-op")]) / calendars)
    out["caldav.noop_requests_per_calendar"] = max(per_calendar) if per_calendar else None
    return out
