"""The cluster profile on one machine: three nats-server nodes routed into one JetStream cluster
(each with its own store), the stream at three replicas, two processes of every worker service.
In the middle of a 20,000-word job one NATS node is SIGKILLed and one process of every service
too: the job completes at its length, every chunk once, no event lost or repeated, no seq gap."""

import asyncio
import random
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import nats
import pytest

from contracts.subjects import Subjects
from fake_llm import running_fake_llm
from longform_cli.embedded import free_port, nats_server_binary
from longform_cli.stack import WORKERS
from tests.chaos.crashes import ChaosStack, chaos_stack
from tests.conftest import fresh_database

TARGET_WORDS = 20_000
NODES = 3
CLUSTER_ENV = {
    "LONGFORM_STREAM_REPLICAS": str(NODES),
    "LONGFORM_CHUNK_WORDS": "800",  # 20,000 words in about 25 chunks: the test stays quick
    "LONGFORM_SECTION_WIDTH": "4",
}


class NatsCluster:
    """Three nats-server processes with routes to one another, JetStream in data_dir/node-N."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.ports = [free_port() for _ in range(NODES)]
        self.cluster_ports = [free_port() for _ in range(NODES)]
        self.monitor_ports = [free_port() for _ in range(NODES)]
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return ",".join(f"nats://127.0.0.1:{port}" for port in self.ports)

    def start(self) -> None:
        routes = ",".join(f"nats://127.0.0.1:{port}" for port in self.cluster_ports)
        for node in range(NODES):
            store = self.data_dir / f"node-{node + 1}"
            store.mkdir(parents=True)
            argv = [nats_server_binary(), "-js", "-sd", str(store), "-n", f"lf-node-{node + 1}",
                    "-a", "127.0.0.1", "-p", str(self.ports[node]), "-m", str(self.monitor_ports[node]),
                    "--cluster_name", "longform", "--cluster", f"nats://127.0.0.1:{self.cluster_ports[node]}",
                    "--routes", routes]
            with open(store / "nats.log", "ab") as log:
                self.processes.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                                       stderr=subprocess.STDOUT, start_new_session=True))
        for port in self.monitor_ports:
            self._wait_until_healthy(port)

    def kill(self, node: int) -> None:
        self.processes[node].send_signal(signal.SIGKILL)
        self.processes[node].wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    def _wait_until_healthy(self, monitor_port: int, timeout: float = 30.0) -> None:
        """/healthz answers 200 once the node has JetStream and the cluster has a meta leader."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{monitor_port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"the NATS node on monitor port {monitor_port} is not healthy after {timeout:.0f} s")


@pytest.fixture(scope="module")
def cluster() -> Iterator[NatsCluster]:
    data = Path(tempfile.mkdtemp(prefix="lf-chaos-cluster-"))
    nodes = NatsCluster(data)
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def fake_llm_root() -> Iterator[str]:
    """A fake that answers after a moment: long enough for a kill to land inside a call, short
    enough for 20,000 words to be written in seconds."""
    with running_fake_llm(default_behaviour="latency:seconds=0.05") as server:
        yield server.root_url


@pytest.fixture(scope="module")
def chaos(database_server_url, cluster, fake_llm_root, chaos_home) -> Iterator[ChaosStack]:
    with fresh_database(database_server_url) as database_url:
        with chaos_stack(chaos_home, database_url, cluster.url, fake_llm_root, CLUSTER_ENV,
                         replicas={name: 2 for name in WORKERS}) as stack:
            yield stack


async def _stream_peers(urls: list[str], stream: str) -> tuple[int, int]:
    """The stream's configured replicas, and its peers in the cluster (its leader and followers)."""
    nc = await nats.connect(urls, connect_timeout=2)
    try:
        info = await nc.jetstream().stream_info(stream)
        return info.config.num_replicas, 1 + len(info.cluster.replicas or [])
    finally:
        await nc.close()


def test_a_job_survives_a_nats_node_and_a_process_of_every_service_killed(chaos, user, cluster) -> None:
    seed = secrets.randbits(32)
    rng = random.Random(seed)
    job_id = chaos.submit(user, TARGET_WORDS)
    before = chaos.at_random_point(job_id, rng)
    assert asyncio.run(_stream_peers(cluster.url.split(","), Subjects(chaos.config.bus_prefix).stream)) == (NODES, NODES)
    cluster.kill(rng.randrange(NODES))
    for service in (*WORKERS, "gateway"):
        chaos.supervisor.crash(rng.choice(chaos.config.processes(service)))
    chaos.wait_until_ended(job_id, timeout=120)
    outcome = chaos.judge(job_id, [before])
    assert outcome.problems() == [], f"seed {seed}, killed after chunks {sorted(before.chunks_done)}"
    assert outcome.words >= TARGET_WORDS
    assert outcome.lost_events == 0 and outcome.seq_gaps == 0 and outcome.duplicate_chunks == 0
