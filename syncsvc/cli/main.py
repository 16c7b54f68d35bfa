"""The command line: `syncsvc plan|sync|run|status|config`.

All user-facing failures end here: `errors.describe` turns them into one line and an exit code;
user errors never print a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from syncsvc import __version__
from syncsvc.domain.errors import ConfigError, ExitCode, SyncsvcError, describe
from syncsvc.logs import configure_logging, get_logger, redact
from syncsvc.plan.formats import FORMATS

if TYPE_CHECKING:
    from syncsvc.domain.plan import Plan
    from syncsvc.plan.load import PlanSourceSpec
    from syncsvc.settings import Settings
    from syncsvc.state.sqlite import SqliteState

log = get_logger("syncsvc.cli.main")


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # Accepted before and after the command (`syncsvc --config X run` and `syncsvc run --config X`);
    # after the command they default to SUPPRESS so they never overwrite a value given before it.
    default: str | None = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (default: $SYNCSVC_CONFIG, then config/syncsvc.toml)",
        default=default,
    )
    parser.add_argument(
        "--secrets-dir",
        metavar="DIR",
        help="directory of secret files (default: $SYNCSVC_SECRETS_DIR)",
        default=default,
    )
    parser.add_argument("--log-format", choices=["auto", "json", "console"], default=default)
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], default=default
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncsvc",
        description="Keep staff and public calendars in step with the annual plan.",
    )
    parser.add_argument("--version", action="version", version=f"syncsvc {__version__}")
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = sub.add_parser("plan", help="read the plan: show, export, check", parents=[common])
    plan_sub = plan.add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    for name, text in (
        ("show", "show the plan as a table grouped by semester, then its problems"),
        ("export", "export the plan as JSON or canonical YAML"),
        ("check", "check the plan; exit 1 when it has errors"),
    ):
        p = plan_sub.add_parser(name, help=text, description=text, parents=[common])
        p.add_argument("source", nargs="?", help="file or http(s) URL (default: from config)")
        p.add_argument(
            "--input-format",
            choices=FORMATS,
            help="format of SOURCE (default: detect)",
        )
        p.add_argument("--year", type=int, help="year of the plan, when the document lacks it")
        if name == "export":
            p.add_argument("--format", choices=["json", "yaml"], default="json")

    sync = sub.add_parser(
        "sync", help="sync the calendars once", description="Sync once.", parents=[common]
    )
    sync.add_argument("--dry-run", action="store_true", help="show the changes; write nothing")
    sync.add_argument(
        "--force", action="store_true", help="apply even if the deletion guard refuses"
    )
    sync.add_argument("--json", action="store_true", help="print the run report as JSON")

    sub.add_parser(
        "run",
        help="run the daemon: scheduled syncs, public feed, HTTP endpoints",
        parents=[common],
    )

    status = sub.add_parser(
        "status", help="show the last runs and each calendar's state", parents=[common]
    )
    status.add_argument("--json", action="store_true")

    admin = sub.add_parser("admin", help="the admin web page", parents=[common])
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    admin_sub.add_parser(
        "hash-password",
        help="read a password (stdin, or a prompt) and print its http.admin_password_hash",
        parents=[common],
    )

    config = sub.add_parser("config", help="configuration", parents=[common])
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser(
        "check",
        help="validate and print the effective settings; secrets show as set or not set",
        parents=[common],
    )
    check.add_argument("--json", action="store_true", help="the settings as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(fmt=args.log_format or "auto", level=args.log_level or "warning")
    try:
        return _dispatch(args)
    except (SyncsvcError, KeyboardInterrupt) as err:
        message, code = describe(err)
        print(redact(message), file=sys.stderr)
        return code
    except Exception as err:  # a bug: one line for the user, the traceback in the log
        log.exception("internal_error")
        message, code = describe(err)
        print(redact(message), file=sys.stderr)
        return code


def _settings(args: argparse.Namespace) -> Settings:
    from syncsvc.settings import load_settings, secret_values

    settings = load_settings(args.config, secrets_dir=args.secrets_dir)
    # One-shot commands print their own report; their log lines would only repeat it, so
    # they log warnings and errors unless asked. The daemon logs at the configured level.
    default_level = settings.logging.level if args.command == "run" else "warning"
    configure_logging(
        fmt=args.log_format or settings.logging.format,
        level=args.log_level or default_level,
        secrets=secret_values(settings),
    )
    return settings


def _dispatch(args: argparse.Namespace) -> int:
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "plan": _cmd_plan,
        "sync": _cmd_sync,
        "run": _cmd_run,
        "status": _cmd_status,
        "config": _cmd_config,
        "admin": _cmd_admin,
    }
    return handlers[args.command](args)


# --- plan ---------------------------------------------------------------------------------


def plan_spec(settings: Settings | None, args: argparse.Namespace | None = None) -> PlanSourceSpec:
    """The plan source from settings, with command-line overrides."""
    from syncsvc.engine.inputs import plan_source_spec
    from syncsvc.plan.load import PlanSourceSpec

    source = getattr(args, "source", None)
    fmt = getattr(args, "input_format", None)
    year = getattr(args, "year", None)
    if settings is None:
        assert source is not None
        return PlanSourceSpec(location=source, format=fmt or "auto", year=year)
    return plan_source_spec(settings, location=source, format=fmt, year=year)


def _load_plan(args: argparse.Namespace) -> Plan:
    from syncsvc.plan.load import load_plan

    # A source given on the command line needs no configuration file.
    settings = None if args.source and not _config_given(args) else _settings(args)
    return load_plan(plan_spec(settings, args))


def _config_given(args: argparse.Namespace) -> bool:
    import os

    return bool(args.config or os.environ.get("SYNCSVC_CONFIG"))


def _cmd_plan(args: argparse.Namespace) -> int:
    from syncsvc.present import plan as present

    plan = _load_plan(args)
    out = sys.stdout
    if args.plan_command == "show":
        _write(present.format_plan(plan))
        return 0
    if args.plan_command == "export":
        if args.format == "yaml":
            out.write(present.plan_to_yaml(plan))
        else:
            json.dump(present.plan_to_dict(plan), out, ensure_ascii=False, indent=2)
            out.write("\n")
        return 0
    # check: with the override rules that match no item, when a configuration names them
    if not args.source or _config_given(args):
        from syncsvc.engine.inputs import overrides_for, with_override_problems

        plan, _ = with_override_problems(plan, overrides_for(_settings(args)))
    _print_problems(plan, out)
    return int(ExitCode.PLAN_PROBLEMS) if plan.has_errors else 0


def _print_problems(plan: Plan, out: TextIO) -> None:
    errors = sum(1 for p in plan.problems if p.severity == "error")
    warnings = sum(1 for p in plan.problems if p.severity == "warning")
    for problem in plan.problems:
        where = f"{problem.where}: " if problem.where else ""
        out.write(f"{problem.severity}: {where}{problem.message}\n")
    dated = sum(1 for i in plan.items if i.occurrences)
    out.write(
        f"{plan.source}: {len(plan.items)} items ({dated} dated, {len(plan.undated)} undated), "
        f"{errors} errors, {warnings} warnings\n"
    )


# --- sync / run / status ------------------------------------------------------------------


def _cmd_sync(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from syncsvc.engine.run import run_sync
    from syncsvc.present.report import format_report

    state = _open_state(settings)
    # The state store is the run's journal: the run is in `status` from its start and is
    # recorded when it ends, also when it fails (a plan that cannot be read).
    report = run_sync(
        settings,
        dry_run=args.dry_run,
        force=args.force,
        state=state,
        progress=_progress_bar(sys.stderr) if not args.json else None,
    )
    if args.json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _write(format_report(report, show_changes=args.dry_run))
    return int(report.exit_code)


def _write(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _open_state(settings: Settings) -> SqliteState:
    from syncsvc.state.sqlite import open_state

    return open_state(settings)


def _progress_bar(stream: TextIO) -> Callable[[str, int, int], None] | None:
    """A one-line progress bar on a terminal, nothing in logs or pipes."""
    if not stream.isatty():
        return None

    def show(label: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        stream.write(f"\r{label[:28]:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


def _cmd_run(args: argparse.Namespace) -> int:
    from syncsvc.service.daemon import run_daemon

    return run_daemon(_settings(args))


def _cmd_status(args: argparse.Namespace) -> int:
    from syncsvc.present.status import format_status

    settings = _settings(args)
    status = _open_state(settings).status()
    if args.json:
        json.dump(status.to_json(), sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        _write(format_status(status))
    return 0


# --- config -------------------------------------------------------------------------------


def _cmd_config(args: argparse.Namespace) -> int:
    from syncsvc.present.config import config_view, format_config

    view = config_view(_settings(args))
    if getattr(args, "json", False):
        json.dump(view, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _write(format_config(view))
    return 0


def _cmd_admin(args: argparse.Namespace) -> int:
    import getpass

    from syncsvc.web.admin_auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 12:
        raise ConfigError("the admin password must be at least 12 characters")
    sys.stdout.write(hash_password(password) + "\n")
    return 0
