"""`longform up`: the whole stack on one machine with no Docker. Postgres and NATS are embedded
(from PyPI) unless DATABASE_URL / NATS_URL point elsewhere; the five services run as child
processes, restarted if one dies; Ctrl-C stops everything cleanly."""

import os
import socket
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from longform_cli.demo import run_demo
from longform_cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from longform_cli.stack import StackConfig, build_supervisor, prepare_database, wait_until_healthy


@dataclass(frozen=True)
class UpOptions:
    home: Path
    port: int
    demo: bool
    demo_words: int


def _say(message: str) -> None:
    print(f"longform: {message}", flush=True)


def _servers(home: Path, stack: ExitStack) -> tuple[str, str]:
    database_url, nats_url = os.environ.get("DATABASE_URL"), os.environ.get("NATS_URL")
    if not database_url:
        postgres = EmbeddedPostgres(home / "postgres")
        database_url = postgres.start()
        stack.callback(postgres.stop)
        _say(f"embedded Postgres at {database_url} (data in {home / 'postgres'})")
    if not nats_url:
        nats = EmbeddedNats(home / "nats")
        nats_url = nats.start()
        stack.callback(nats.stop)
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


def run_up(options: UpOptions) -> int:
    options.home.mkdir(parents=True, exist_ok=True)
    port = _gateway_port(options)
    with ExitStack() as stack:
        database_url, nats_url = _servers(options.home, stack)
        applied = prepare_database(database_url)
        _say(f"schema migrated ({len(applied)} new migrations)")
        llm_env, fake_port = _llm_env()
        config = StackConfig(home=options.home, database_url=database_url, nats_url=nats_url,
                             gateway_port=port, llm_env=llm_env)
        supervisor = build_supervisor(config, fake_llm_port=fake_port)
        supervisor.start_all()
        stack.callback(supervisor.stop_all)
        wait_until_healthy(config.gateway_url, timeout=120)
        _say(f"gateway on {config.gateway_url} (logs in {options.home / 'logs'}, pids in {options.home / 'run'})")
        if options.demo:
            return run_demo(config.gateway_url, options.home / "output", options.demo_words)
        _say("running; press Ctrl-C to stop")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            _say("stopping")
    return 0
