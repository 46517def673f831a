"""The ``baobei`` command: ``dev`` starts everything; each component also starts alone."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

from baobei.core.logging import configure_logging
from baobei.core.settings import SERVICES, Settings

ROOT = Path(__file__).resolve().parents[1]


def _settings(args: argparse.Namespace) -> Settings:
    # Flags override the environment; settings are built once here and passed down.
    overrides: dict[str, object] = {}
    if getattr(args, "port", None):
        overrides["port"] = args.port
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings(**overrides)  # type: ignore[arg-type]


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component=args.service)
    module = __import__(f"services.{args.service}.server", fromlist=["serve"])
    module.serve(settings)
    return 0


def _worker(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="worker")
    from workflows.worker import run_worker

    asyncio.run(run_worker(settings))
    return 0


def _edge(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="edge")
    from edge.server import serve

    serve(settings)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(fmt=settings.log_format, level=settings.log_level, component="migrate")
    from baobei.core.migrations import upgrade

    for service in SERVICES if args.service == "all" else (args.service,):
        upgrade(service, settings.db_url(service))
        print(f"migrated {service}")
    return 0


def _dev(args: argparse.Namespace) -> int:
    from baobei.dev import run_dev

    return run_dev(_settings(args), verbose=args.verbose)


def _test(args: argparse.Namespace) -> int:
    cmd = [sys.executable, "-m", "pytest", *args.pytest_args]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    return 0 if code == 5 else code  # 5 = no tests collected (e.g. a filtered run)


def _gen_proto(args: argparse.Namespace) -> int:
    from baobei.tools import protogen

    return protogen.main(["--check"] if args.check else [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="baobei", description="Baobei (报备) project registration system")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--data-dir", help="data directory (env BAOBEI_DATA_DIR, default ./data)")
        p.add_argument("--port", type=int, help="HTTP port (env BAOBEI_PORT, default 8000)")
        return p

    dev = common(sub.add_parser("dev", help="start the whole system on embedded defaults"))
    dev.add_argument("--verbose", action="store_true", help="component logs on the console, not in <data-dir>/logs")
    dev.set_defaults(func=_dev)
    serve = common(sub.add_parser("serve", help="run one service"))
    serve.add_argument("service", choices=SERVICES)
    serve.set_defaults(func=_serve)
    common(sub.add_parser("worker", help="run the Temporal worker")).set_defaults(func=_worker)
    common(sub.add_parser("edge", help="run the HTTP edge")).set_defaults(func=_edge)
    mig = common(sub.add_parser("migrate", help="apply database migrations"))
    mig.add_argument("service", choices=(*SERVICES, "all"))
    mig.set_defaults(func=_migrate)
    test = sub.add_parser("test", help="run the test suite (arguments go to pytest)")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(func=_test)
    gen = sub.add_parser("gen-proto", help="regenerate baobei/<service>/v1 from proto/")
    gen.add_argument("--check", action="store_true", help="fail when the committed code drifts")
    gen.set_defaults(func=_gen_proto)

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["test"]:
        # Everything after "test" belongs to pytest, options included.
        return _test(argparse.Namespace(pytest_args=argv[1:]))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
