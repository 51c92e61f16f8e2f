"""One NATS connection per process: each running service (the gateway with live followers and
probes included) holds exactly one TCP connection to the NATS server, the FastStream broker's,
once every use of the bus has happened (subscribers, publishes, the audit service's batch pull,
the live feed, the readiness and metrics probes). Counted from the operating system's socket
table of each service process, so nothing the service does can hide a connection."""

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import psutil
import websockets

from longform_cli.stack import SERVICES, WORKERS
from tests.integration.client import ApiClient


def nats_connections(pid: int, nats_port: int) -> int:
    """TCP connections to the NATS server held by the process `pid` and its children."""
    process = psutil.Process(pid)
    return sum(1 for p in [process, *process.children(recursive=True)]
               for c in p.net_connections(kind="tcp")
               if c.raddr and c.raddr.port == nats_port and c.status == psutil.CONN_ESTABLISHED)


def _probe_every_service(stack) -> None:
    bases = [stack.config.gateway_url] + [f"http://127.0.0.1:{stack.config.ops_ports[name]}" for name in WORKERS]
    for base in bases:
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200, base
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 200, base


async def test_each_service_process_holds_exactly_one_nats_connection(stack, client) -> None:
    job_id = client.submit(600)
    headers = {"Authorization": f"Bearer {client.token}"}
    async with websockets.connect(client.live_url(job_id, 0), additional_headers=headers) as follower:
        while json.loads(await asyncio.wait_for(follower.recv(), timeout=120))["type"] != "job.completed":
            pass  # the job ran through every service; the gateway's live feed is still subscribed
        await asyncio.to_thread(_probe_every_service, stack)
        nats_port = urlsplit(stack.config.nats_url).port or 4222
        held = {name: nats_connections(stack.supervisor.pid(name), nats_port) for name in SERVICES}
    assert held == {name: 1 for name in SERVICES}
