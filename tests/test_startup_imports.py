"""A one-shot no-op `syncsvc sync` loads only what the run needs (lazy imports).

Start-up time is measured in bench/ (bench_caldav prints it); what is checked here is which
libraries a fresh process has loaded when `syncsvc sync` finds nothing to do on a CalDAV
calendar: the heavy ones that such a run does not use must stay unloaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.servers import DavServer, calendar_path

# Libraries a no-op CalDAV run must not import: icalendar is for events read or written, the
# caldav library is not used at all, httpx only fetches plan URLs, YAML is the canonical plan
# format, the others belong to other plan formats, Graph, the daemon and its web server.
NOT_NEEDED = (
    "icalendar",
    "caldav",
    "httpx",
    "yaml",
    "docx",
    "openpyxl",
    "odf",
    "pypdf",
    "msal",
    "starlette",
    "uvicorn",
    "apscheduler",
    "prometheus_client",
)

# Runs the real command line in a fresh interpreter, then lists the modules it loaded.
_PROBE = """
import json, sys
from syncsvc.cli.main import main
code = main(sys.argv[1:])
sys.stdout.flush()
print("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

PLAN = """Årsplan 2030

Våren 2030

ARBEIDSOPPGAVER AKTIVITETER\tDATO/TID\tKNYTTET TIL TILTAK NR\tSAMARBEID/ANSVAR
Fagdag for bibliotekene\t14. mars kl. 10.00–11.30\t3\tFylkesbiblioteket
Lesekampanje\t2. april\t4\tFylkesbiblioteket
"""


def _config(tmp_path: Path, server: DavServer) -> Path:
    (tmp_path / "plan.txt").write_text(PLAN, encoding="utf-8")
    url = calendar_path(server, server.new_calendar("startup"))
    config = tmp_path / "syncsvc.toml"
    config.write_text(
        f'[plan]\nsource = "plan.txt"\n\n[sync]\ndata_dir = "data"\n\n'
        f'[servers.dav]\nurl = "{server.url}"\n'
        f'username = "{server.username}"\npassword = "{server.password}"\n\n'
        f'[[calendars]]\nname = "org"\ntarget = "caldav"\nserver = "dav"\nurl = "{url}"\n'
        'selector = "org"\n',
        encoding="utf-8",
    )
    return config


def _run(config: Path) -> tuple[int, str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "sync", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    *output, last = done.stdout.rstrip("\n").split("\n")
    result = json.loads(last)
    return result["code"], "\n".join(output) + done.stderr, set(result["modules"])


def test_a_no_op_sync_loads_no_library_it_does_not_use(radicale: DavServer, tmp_path: Path) -> None:
    config = _config(tmp_path, radicale)
    code, output, first = _run(config)
    assert code == 0, output
    assert "icalendar" in first  # the first run writes events: the probe sees imports
    code, output, modules = _run(config)
    assert code == 0, output
    assert "niquests" in modules  # it did talk to the server
    loaded = sorted(m for m in NOT_NEEDED if m in modules)
    assert loaded == [], f"a no-op sync imported {loaded}"
    # The plan did not change, so its reading came from the cache: no reader was loaded.
    assert "syncsvc.plan.table" in first
    readers = sorted(
        m for m in modules if m.startswith(("syncsvc.plan.readers", "syncsvc.plan.table"))
    )
    assert readers == [], f"an unchanged plan was read again: {readers}"
