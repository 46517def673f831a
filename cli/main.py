"""The ``baobei`` command: ``dev`` starts everything; each component also starts alone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

from baobei.core.logging import configure_logging
from baobei.core.settings import SERVICES, Settings
from baobei.core.telemetry import setup_tracing

ROOT = Path(__file__).resolve().parents[1]


def _settings(args: argparse.Namespace) -> Settings:
    # Flags override the environment; settings are built once here and passed down.
    overrides: dict[str, object] = {}
    if getattr(args, "port", None):
        overrides["port"] = args.port
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    if getattr(args, "dev_oidc", False):
        overrides["dev_oidc"] = True
    if getattr(args, "demo", False):
        overrides["dev_demo"] = True
    return Settings(**overrides)  # type: ignore[arg-type]


def _use_tls(settings: Settings) -> None:
    # The process's gRPC identity for every channel it opens (peers of services included).
    from baobei.core.grpc_client import set_default_tls
    from baobei.core.tls import GrpcTls

    set_default_tls(GrpcTls.from_settings(settings))


def _metrics(settings: Settings, component: str) -> None:
    """This process's Prometheus /metrics (``BAOBEI_METRICS_PORT`` or its entry in
    ``BAOBEI_METRICS_PORTS``; 0 = none)."""
    from baobei.core.metrics import serve_metrics, set_enabled

    set_enabled(settings.metrics_enabled)
    serve_metrics(settings.metrics_port_of(component), settings.host, component=component)


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component=args.service)
    setup_tracing(settings, args.service)
    _use_tls(settings)
    _metrics(settings, args.service)
    module = __import__(f"services.{args.service}.server", fromlist=["serve"])
    module.serve(settings)
    return 0


def _worker(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="worker")
    setup_tracing(settings, "worker")
    _use_tls(settings)
    from workflows.worker import run_worker
    from workflows.worker_metrics import component_of

    _metrics(settings, component_of(args.role))
    from baobei.core.gc_tuning import settle_heap

    settle_heap()  # the worker's modules are loaded: their heap out of the collector's way
    asyncio.run(_with_heartbeat(run_worker(settings, role=args.role), Path(settings.data_dir) / "worker.heartbeat"))
    return 0


HEARTBEAT_EVERY = 5.0


async def _with_heartbeat(main: Coroutine[Any, Any, None], path: Path) -> None:
    """Run ``main`` while touching ``path`` every few seconds from the same event loop: a fresh
    file proves the loop is not blocked (the worker's liveness probe reads its age)."""

    async def beat() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            path.touch()
            now = time.time()  # the process's clock, the one the probe compares with
            os.utime(path, (now, now))
            await asyncio.sleep(HEARTBEAT_EVERY)

    task = asyncio.create_task(beat())
    try:
        await main
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _edge(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="edge")
    setup_tracing(settings, "edge")
    _use_tls(settings)
    _metrics(settings, "edge")
    from edge.server import serve

    serve(settings)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="migrate")
    from baobei.core.migrations import upgrade

    for service in SERVICES if args.service == "all" else (args.service,):
        with _migration_lock(settings.db_url(service)):
            upgrade(service, settings.db_url(service))
        print(f"migrated {service}", flush=True)
    return 0


@contextlib.contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """On PostgreSQL, one migrator at a time per database (replicas' init containers start
    together); elsewhere nothing."""
    from baobei.core.db import make_engine

    if not url.startswith(("postgresql", "postgres:")):
        yield
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(7351130)")  # arbitrary, fixed key: "baobei migrate"
            try:
                yield
            finally:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(7351130)")
                conn.commit()
    finally:
        engine.dispose()


def _temporal_setup(args: argparse.Namespace) -> int:
    """Register the search attributes on the namespace (the install Job runs this), retrying
    until Temporal answers or ``--timeout`` passes."""
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="temporal-setup")
    from temporalio.client import Client

    from workflows.worker import ensure_search_attributes

    async def run() -> None:
        deadline = asyncio.get_running_loop().time() + args.timeout
        while True:
            try:
                client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
                await ensure_search_attributes(client, settings.temporal_namespace)
                return
            except Exception as err:
                if asyncio.get_running_loop().time() > deadline:
                    raise SystemExit(f"temporal-setup: {settings.temporal_address}: {err}") from err
                await asyncio.sleep(2)

    asyncio.run(run())
    print(f"search attributes registered on namespace {settings.temporal_namespace}", flush=True)
    return 0


def _check_manifests(args: argparse.Namespace) -> int:
    from cli.tools import manifests

    return manifests.main(args.overlays)


def _dev(args: argparse.Namespace) -> int:
    from cli.dev import run_dev
    from cli.tools import web

    if not args.no_web:
        web.build()  # only when web/ changed since the last build

    return run_dev(_settings(args), verbose=args.verbose)


LIBFAKETIME = [
    Path(d) / "faketime" / "libfaketime.so.1"
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib")
]


def clock_ahead_env(days: int, libfaketime: str, pythonpath: str) -> dict[str, str]:
    """``baobei test --clock-ahead DAYS``: every process of the run starts with its wall clock DAYS
    ahead — libfaketime for the whole process (C libraries and the Temporal test server included;
    not static binaries such as the Temporal dev server), tests/clock_ahead/sitecustomize.py for
    what libfaketime gets wrong in Python. Monotonic clocks stay real."""
    return {
        "BAOBEI_TEST_CLOCK_AHEAD_DAYS": str(days),
        "LD_PRELOAD": libfaketime,
        "FAKETIME": f"+{days}d",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "tests" / "clock_ahead"), str(ROOT), pythonpath) if p),
    }


def _test(args: argparse.Namespace) -> int:
    pytest_args = list(args.pytest_args)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if pytest_args[:1] == ["--clock-ahead"]:
        if len(pytest_args) < 2 or not pytest_args[1].isdigit():
            print("usage: baobei test --clock-ahead DAYS [pytest args]", file=sys.stderr)
            return 2
        lib = next((str(p) for p in LIBFAKETIME if p.is_file()), "")
        if not lib:
            print("--clock-ahead needs libfaketime: apt-get install faketime (or run .ci/clock-ahead)", file=sys.stderr)
            return 2
        env.update(clock_ahead_env(int(pytest_args[1]), lib, env.get("PYTHONPATH", "")))
        pytest_args = pytest_args[2:]
    cmd = [sys.executable, "-m", "pytest", *pytest_args]
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    return 0 if code == 5 else code  # 5 = no tests collected (e.g. a filtered run)


def _web(args: argparse.Namespace) -> int:
    from cli.tools import web

    return web.main(args.web_args)


def _gen_proto(args: argparse.Namespace) -> int:
    from cli.tools import protogen

    return protogen.main(["--check"] if args.check else [])


def _proto_breaking(args: argparse.Namespace) -> int:
    from cli.tools import proto_breaking

    return proto_breaking.main(["--cut-release"] if args.cut_release else [])


def _rebuild_read_models(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="rebuild")
    from services.reporting.rebuild import run

    resp = run(settings)
    print(f"rebuilt reporting read models: {resp.events} events, {resp.projects} projects, {resp.tasks} tasks")
    return 0


def _import(args: argparse.Namespace) -> int:
    from services.registry.io_cli import import_file
    from workflows.starter import start_lifecycles

    settings = _settings(args)

    def start(projects: list[tuple[str, str, str, str]]) -> None:
        try:
            asyncio.run(start_lifecycles(settings, projects))
        except Exception as err:  # noqa: BLE001 - the rows are stored; say how to catch up
            print(f"项目流程未能启动（{err}）：可稍后运行 baobei rebuild-read-models 更新报表")

    return import_file(settings, Path(args.file), form_key=args.form, dry_run=args.dry_run,
                       skip_invalid=args.skip_invalid, on_imported=start, background=args.background or None)


def _export(args: argparse.Namespace) -> int:
    from services.registry.io_cli import export_file

    return export_file(_settings(args), Path(args.out), user_id=args.user or "")


def _smtp_sink(args: argparse.Namespace) -> int:
    from cli.smtp_sink import serve

    settings = _settings(args)
    port = args.smtp_port if args.smtp_port is not None else (settings.smtp_sink_port or 1025)
    try:
        serve(args.host, port, settings.data_dir / "mails")
    except OSError as err:
        print(f"SMTP sink cannot listen on {args.host}:{port}: {err}", file=sys.stderr)
        return 1
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    from cli.create_admin import run

    settings = _settings(args)
    _use_tls(settings)
    return run(settings, user_id=args.id, name=args.name or "", email=args.email or "",
               password_stdin=args.password_stdin)


def _status(args: argparse.Namespace) -> int:
    from cli.status import run

    settings = _settings(args)
    _use_tls(settings)
    return run(settings, json_out=args.json)


def _mails(args: argparse.Namespace) -> int:
    import json

    from cli.smtp_sink import list_mails

    mail_dir = _settings(args).data_dir / "mails"
    mails = list_mails(mail_dir, limit=args.limit)
    if args.json:
        print(json.dumps(mails, ensure_ascii=False, indent=2))
        return 0
    if not mails:
        print(f"no mails in {mail_dir.resolve()}")
        return 0
    for m in mails:
        print(f"{m['id']}  {m['date']}\n  From: {m['from']}\n  To: {m['to']}\n  Subject: {m['subject']}")
        text = m["text"].strip()
        if text:
            print("  " + "\n  ".join(text.splitlines()[:8]))
        print(f"  ({m['file']})\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="baobei", description="Baobei (报备) project registration system")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--data-dir", help="data directory (env BAOBEI_DATA_DIR, default ./data)")
        p.add_argument("--port", type=int, help="HTTP port (env BAOBEI_PORT, default 8000)")
        return p

    dev = common(sub.add_parser("dev", help="start the whole system on embedded defaults"))
    dev.add_argument("--demo", action="store_true",
                     help="load demo data (an org, a form, a policy, people with a password) once ready")
    dev.add_argument("--no-web", action="store_true", help="do not build the web app (serve what web/dist holds)")
    dev.add_argument("--verbose", action="store_true", help="component logs on the console, not in <data-dir>/logs")
    dev.add_argument("--dev-oidc", action="store_true",
                     help="also run a local OIDC provider and register it as sign-in provider dev-oidc "
                          "(env BAOBEI_DEV_OIDC=1)")
    dev.set_defaults(func=_dev)
    serve = common(sub.add_parser("serve", help="run one service"))
    serve.add_argument("service", choices=SERVICES)
    serve.set_defaults(func=_serve)
    worker = common(sub.add_parser("worker", help="run the Temporal worker"))
    worker.add_argument("--role", choices=("all", "lifecycle", "delivery"), default="all",
                        help="lifecycle: projects, approvals, execution (BAOBEI_TASK_QUEUE); delivery: notification "
                             "delivery and its outbox dispatcher (BAOBEI_DELIVERY_TASK_QUEUE); all: both (default)")
    worker.set_defaults(func=_worker)
    common(sub.add_parser("edge", help="run the HTTP edge")).set_defaults(func=_edge)
    mig = common(sub.add_parser("migrate", help="apply database migrations"))
    mig.add_argument("service", choices=(*SERVICES, "all"))
    mig.set_defaults(func=_migrate)
    test = sub.add_parser(
        "test", help="run the test suite (arguments go to pytest; --clock-ahead DAYS first moves the wall clock)"
    )
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(func=_test)
    tsetup = common(sub.add_parser("temporal-setup", help="register Baobei's search attributes on the namespace"))
    tsetup.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for Temporal (default 300)")
    tsetup.set_defaults(func=_temporal_setup)
    check = sub.add_parser("check-manifests", help="render deploy/k8s overlays and validate them offline")
    check.add_argument("overlays", nargs="*", help="overlay names (default: all)")
    check.set_defaults(func=_check_manifests)
    rebuild = common(
        sub.add_parser("rebuild-read-models", help="recompute reporting read models (event log + registry)")
    )
    rebuild.set_defaults(func=_rebuild_read_models)
    imp = common(sub.add_parser("import", help="import registrations from .xlsx/.csv (via the registry)"))
    imp.add_argument("file")
    imp.add_argument("--form", required=True, help="form key the rows are filed with")
    imp.add_argument("--dry-run", action="store_true", help="only report bad rows and cells")
    imp.add_argument("--skip-invalid", action="store_true", help="import good rows, report bad ones")
    imp.add_argument("--background", action="store_true",
                     help="run as a registry job with a progress bar (the default for files over 256 KB)")
    imp.set_defaults(func=_import)
    exp = common(sub.add_parser("export", help="export projects to .xlsx or .csv (by the file's suffix)"))
    exp.add_argument("out")
    exp.add_argument("--user", help="export what this user may see (default: everything)")
    exp.set_defaults(func=_export)
    sink = sub.add_parser("smtp-sink", help="run a local SMTP sink keeping mails under <data-dir>/mails")
    sink.add_argument("--data-dir", help="data directory (env BAOBEI_DATA_DIR, default ./data)")
    sink.add_argument("--port", dest="smtp_port", type=int,
                      help="SMTP port (env BAOBEI_SMTP_SINK_PORT, default 1025)")
    sink.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    sink.set_defaults(func=_smtp_sink)
    status = common(sub.add_parser(
        "status", help="one-screen health summary of the running stack: components up, approvals waiting, "
        "oldest waiting, dead letters (exit 1 when a component is down)"))
    status.add_argument("--json", action="store_true", help="the same as JSON")
    status.set_defaults(func=_status)
    mails = sub.add_parser("mails", help="list the mails the local SMTP sink received (newest first)")
    mails.add_argument("--data-dir", help="data directory (env BAOBEI_DATA_DIR, default ./data)")
    mails.add_argument("--json", action="store_true", help="JSON: id, from, to, subject, date, message_id, text, html")
    mails.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    mails.set_defaults(func=_mails)
    admin = common(sub.add_parser(
        "create-admin", help="make an org user an admin with a local account and print a link to set the password "
        "(through the registry's gRPC API; works against a running `baobei dev`)"))
    admin.add_argument("--id", required=True, help="user id (created when new, else given the admin role)")
    admin.add_argument("--name", help="display name (required for a new user)")
    admin.add_argument("--email", help="e-mail address (sign-in login and password resets)")
    admin.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input instead of printing a link")
    admin.set_defaults(func=_create_admin)
    web = sub.add_parser("web", help="the web app: build | gen-api [--check] | test | typecheck | node")
    web.add_argument("web_args", nargs=argparse.REMAINDER)
    web.set_defaults(func=_web)
    gen = sub.add_parser("gen-proto", help="regenerate baobei/<service>/v1 from proto/")
    gen.add_argument("--check", action="store_true", help="fail when the committed code drifts")
    gen.set_defaults(func=_gen_proto)
    brk = sub.add_parser("proto-breaking", help="buf breaking-change check of proto/ against the last release")
    brk.add_argument("--cut-release", action="store_true", help="make proto/ the new release baseline")
    brk.set_defaults(func=_proto_breaking)

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["test"]:
        # Everything after "test" belongs to pytest, options included.
        return _test(argparse.Namespace(pytest_args=argv[1:]))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


def entry() -> None:
    """Console-script entry: run, flush, and leave without interpreter finalisation. grpcio's
    Cython core can abort (PyGILState_Release) while the interpreter tears down its threads after
    an asyncio run; the work is done and flushed by then, so skipping finalisation loses nothing."""
    try:
        code = main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
