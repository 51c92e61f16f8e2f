"""The five services (and, when no LLM is configured, the fake LLM server) as child processes
of one supervisor: what `longform up` runs and what the integration tests start."""

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from typing import Callable

import httpx

from longform_cli.ports import free_port
from longform_cli.supervisor import Supervisor
from services.operator import allow_local_logins, migrate, service_url

SERVICES = ("audit", "planner", "generator", "assembler", "gateway")
WORKERS = SERVICES[:-1]  # each serves /healthz, /readyz and /metrics on an ops port; the gateway on its own


def _free_ops_ports() -> dict[str, int]:
    return {name: free_port() for name in WORKERS}


@dataclass(frozen=True)
class StackConfig:
    home: Path
    database_url: str
    nats_url: str
    gateway_port: int
    bus_prefix: str = "longform"
    llm_env: dict[str, str] = field(default_factory=dict)  # LONGFORM_LLM_* and API keys
    extra_env: dict[str, str] = field(default_factory=dict)
    ops_ports: dict[str, int] = field(default_factory=_free_ops_ports)  # free ones: stacks may run side by side
    replicas: dict[str, int] = field(default_factory=dict)  # processes of a worker service (default 1)

    def __post_init__(self) -> None:
        if unknown := set(self.replicas) - set(WORKERS):
            raise ValueError(f"only workers run as several processes, not {sorted(unknown)}")
        replicas = {p: free_port() for s in self.replicas for p in self.processes(s) if p != s}  # one port each
        object.__setattr__(self, "ops_ports", replicas | self.ops_ports)

    def processes(self, service: str) -> list[str]:
        """The names of a service's processes (its own name when it runs one): each one's
        supervisor name, log file and Postgres application_name. They share its durable consumers."""
        count = self.replicas.get(service, 1)
        return [service] if count == 1 else [f"{service}-{i}" for i in range(1, count + 1)]

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"


def prepare_database(owner_url: str) -> list:
    """Migrate (the local stack migrates itself) and let the services' roles log in; returns the
    migrations applied."""
    applied = asyncio.run(migrate(owner_url))
    asyncio.run(allow_local_logins(owner_url, SERVICES))
    return applied


def service_env(config: StackConfig) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGFORM_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        DATABASE_URL=config.database_url, NATS_URL=config.nats_url, LONGFORM_BUS_PREFIX=config.bus_prefix,
        LONGFORM_PORT=str(config.gateway_port), PYTHONUNBUFFERED="1",
    )
    env.update(config.llm_env)
    env.update(config.extra_env)
    return env


def build_supervisor(config: StackConfig, fake_llm_port: int | None = None) -> Supervisor:
    supervisor = Supervisor(config.home / "run", config.home / "logs")
    env = service_env(config)
    if fake_llm_port is not None:
        argv = [sys.executable, "-m", "fake_llm", "--port", str(fake_llm_port)]
        behaviour = env.get("FAKE_LLM_DEFAULT")
        supervisor.add("fake-llm", argv + (["--default", behaviour] if behaviour else []), env)
    for name in SERVICES:  # each as its own least-privilege role
        for process in config.processes(name):
            supervisor.add(process, [sys.executable, "-m", f"services.{name}"],
                           {**env, **_ops_env(config, process), "LONGFORM_INSTANCE": process,
                            "DATABASE_URL": service_url(config.database_url, name)})
    return supervisor


def _ops_env(config: StackConfig, process: str) -> dict[str, str]:
    return {"LONGFORM_OPS_PORT": str(config.ops_ports[process])} if process in config.ops_ports else {}


def answers(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Whether `url` answers 200 within `timeout` seconds (no longer once `alive()` is false)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def wait_until_healthy(url: str, timeout: float = 60.0) -> None:
    if not answers(f"{url}/healthz", timeout):
        raise TimeoutError(f"the gateway at {url} was not healthy within {timeout:.0f} s")
