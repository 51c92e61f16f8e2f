"""The deployment files checked as data: the image recipe, docker-compose.yml and the kustomize
base in deploy/. No Docker engine and no cluster are needed; the CLIs that validate these files
offline (`docker compose config`, else Debian's v1 `docker-compose config`; `kubectl kustomize`)
run when they are installed."""

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from contracts.messages import WriteChunk
from contracts.subjects import DEFAULT_PREFIX, Subjects
from services.common.ops import OPS_PATHS, OPS_PORTS
from services.generator.config import GeneratorSettings
from services.generator.retention import RetentionSettings

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "base"
SERVICES = ("audit", "planner", "generator", "assembler", "gateway")
MIGRATE_COMMAND = ["python", "-m", "longform_cli", "db", "migrate"]
GENERATOR_CONSUMER = f"generator-{WriteChunk.TYPE.replace('.', '-')}"  # as services.common.bus names it
RETENTION = tuple(f"LONGFORM_{field.upper()}" for field in RetentionSettings.model_fields)


def _run(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


# --- the image ---------------------------------------------------------------------------

def test_image_installs_the_lock_and_runs_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "-r requirements.lock" in dockerfile
    assert "pip install --no-deps -e ." in dockerfile
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and not users[-1].startswith(("root", "0")), "the image must end on a non-root USER"


def test_build_context_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".longform", "test-artifacts", ".env"} <= ignored


# --- docker-compose.yml ------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def test_compose_runs_nats_postgres_migrate_and_every_service(services):
    assert {"nats", "postgres", "migrate", *SERVICES} <= set(services)
    assert services["nats"]["image"].startswith("nats:2.10")
    assert "-js" in services["nats"]["command"]
    assert services["postgres"]["image"].startswith("postgres:16")


def test_every_longform_process_runs_from_the_one_image(services):
    longform = [services[name] for name in (*SERVICES, "migrate")]
    assert {(s["build"], s["image"]) for s in longform} == {(".", longform[0]["image"])}
    for name in SERVICES:
        assert services[name]["command"] == ["python", "-m", f"services.{name}"]
    assert services["migrate"]["command"] == MIGRATE_COMMAND


def test_generator_can_be_scaled_to_many_containers(services):
    generator = services["generator"]
    assert "container_name" not in generator
    assert "ports" not in generator


def test_gateway_is_published_on_8080_and_listens_on_every_interface(services):
    gateway = services["gateway"]
    assert [_interpolated(port, {}) for port in gateway["ports"]] == ["8080:8080"]
    assert gateway["environment"]["LONGFORM_HOST"] == "0.0.0.0"
    assert str(gateway["environment"]["LONGFORM_PORT"]) == "8080"


def test_every_service_is_healthy_only_when_its_readyz_answers(compose, services):
    assert compose["x-longform-env"]["LONGFORM_OPS_HOST"] == "0.0.0.0"
    ports = {**OPS_PORTS, "gateway": 8080}
    for name in SERVICES:
        check = services[name]["healthcheck"]
        assert f"http://127.0.0.1:{ports[name]}/readyz" in " ".join(check["test"]), name
        assert check["retries"] > 0 and check["interval"], name


def test_neon_pooled_setting_passes_through_from_the_shell(compose):
    assert compose["x-longform-env"]["LONGFORM_DB_POOLED"] is None


def test_services_start_only_after_migrate_succeeded_and_nats_is_healthy(services):
    for name in SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["nats"]["condition"] == "service_healthy", name
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"


def test_nats_and_postgres_have_healthchecks_and_volumes(services):
    assert "8222/healthz" in " ".join(services["nats"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert any(v.endswith(":/data") for v in services["nats"]["volumes"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])


def test_database_url_can_be_overridden_from_the_shell(compose, services):
    env = compose["x-longform-env"]
    assert env["DATABASE_URL"].startswith("${DATABASE_URL:-postgresql://")
    for name in (*SERVICES, "migrate"):
        assert services[name]["environment"]["DATABASE_URL"] == env["DATABASE_URL"], name


def test_unset_llm_settings_are_not_passed_as_empty_strings(compose):
    env = compose["x-longform-env"]
    for name in ("LONGFORM_LLM_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        assert env[name] is None, f"{name} must pass through from the shell, never default to ''"


def test_compose_passes_retention_through_from_the_shell_and_leaves_it_off(compose):
    env = compose["x-longform-env"]
    for name in RETENTION:
        assert name in env and env[name] is None, f"{name} must pass through from the shell, unset by default"


def test_fake_llm_runs_only_in_the_fake_profile(services):
    fake = services["fake-llm"]
    assert fake["profiles"] == ["fake"]
    assert fake["command"][:3] == ["python", "-m", "fake_llm"]
    assert "8900" in fake["command"]


# --- the cluster profile ------------------------------------------------------------------

NODES = ("nats-1", "nats-2", "nats-3")
CLUSTER_ENV = ROOT / "deploy" / "cluster.env"


def _interpolated(value, env: dict[str, str]) -> str:
    """A compose value with ${VAR:-default} filled in from `env`, as compose does from the shell."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), str(value))


@pytest.fixture(scope="module")
def cluster_env() -> dict[str, str]:
    lines = [line for line in CLUSTER_ENV.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def _flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_cluster_profile_runs_three_jetstream_nodes_routed_to_one_another(services):
    for name in NODES:
        node = services[name]
        assert node["profiles"] == ["cluster"], name
        assert node["image"] == services["nats"]["image"], name
        command = node["command"]
        assert "-js" in command and _flag(command, "-sd") == "/data", name
        assert _flag(command, "--cluster_name") == "longform", name
        assert _flag(command, "--cluster").endswith(":6222"), name
        assert set(_flag(command, "--routes").split(",")) == {f"nats://{n}:6222" for n in NODES}, name
        assert "/healthz" in " ".join(node["healthcheck"]["test"]), name
    assert len({_flag(services[n]["command"], "-n") for n in NODES}) == len(NODES)
    stores = [v.split(":")[0] for n in NODES for v in services[n]["volumes"] if v.endswith(":/data")]
    assert len(set(stores)) == len(NODES), "each node keeps its own JetStream store"


def _settings_in_container(compose: dict, shell: dict[str, str], monkeypatch):
    """The settings a service reads from the environment compose gives it, `shell` set in the shell."""
    from services.common.config import ServiceSettings

    for name, value in compose["x-longform-env"].items():
        if value is not None:
            monkeypatch.setenv(name, _interpolated(value, shell))
    return ServiceSettings()


def test_cluster_env_points_every_service_at_every_node_with_the_stream_at_three_replicas(
        compose, cluster_env, monkeypatch):
    settings = _settings_in_container(compose, cluster_env, monkeypatch)
    assert settings.nats_servers == [f"nats://{n}:4222" for n in NODES]
    assert settings.stream_replicas == len(NODES)


def test_without_the_cluster_env_the_stream_has_one_replica_on_the_single_node(compose, monkeypatch):
    settings = _settings_in_container(compose, {}, monkeypatch)
    assert settings.nats_servers == ["nats://nats:4222"] and settings.stream_replicas == 1


def test_cluster_env_runs_two_of_every_service_with_a_gateway_port_each(services, cluster_env):
    for name in SERVICES:
        assert _interpolated(services[name]["deploy"]["replicas"], {}) == "1", name
        assert _interpolated(services[name]["deploy"]["replicas"], cluster_env) == "2", name
    (port,) = services["gateway"]["ports"]
    assert _interpolated(port, cluster_env) == "8080-8081:8080"


def _has_compose_v2() -> bool:
    return shutil.which("docker") is not None and _run(["docker", "compose", "version"]).returncode == 0


def test_docker_compose_accepts_the_file(compose, tmp_path):
    if _has_compose_v2():
        result = _run(["docker", "compose", "-f", "docker-compose.yml", "config", "-q"])
    elif shutil.which("docker-compose"):
        # Compose v1 (Debian's `docker-compose` 1.29) predates the top-level `name:`, so it checks
        # the rest of the file, with that name given as its project name.
        without_name = tmp_path / "docker-compose.yml"
        without_name.write_text(yaml.safe_dump({k: v for k, v in compose.items() if k != "name"}))
        result = _run(["docker-compose", "--project-name", compose["name"], "--project-directory", str(ROOT),
                       "-f", str(without_name), "config", "-q"])
    else:
        pytest.skip("neither `docker compose` (v2) nor `docker-compose` (v1) is installed")
    assert result.returncode == 0, result.stderr


def test_docker_compose_renders_the_cluster_profile(compose, cluster_env, tmp_path):
    """`config` with the cluster profile and env file: two of every service, the nodes listed."""
    cluster = ["--profile", "cluster", "--env-file", str(CLUSTER_ENV)]
    shell = {k: v for k, v in os.environ.items() if k not in cluster_env}  # the shell's own would win
    if _has_compose_v2():
        result = _run(["docker", "compose", *cluster, "-f", "docker-compose.yml", "config", "--format", "json"],
                      env=shell)
        rendered = json.loads(result.stdout) if result.returncode == 0 else {}
    elif shutil.which("docker-compose"):
        without_name = tmp_path / "docker-compose.yml"
        without_name.write_text(yaml.safe_dump({k: v for k, v in compose.items() if k != "name"}))
        result = _run(["docker-compose", "--project-name", compose["name"], "--project-directory", str(ROOT),
                       *cluster, "-f", str(without_name), "config"], env=shell)
        rendered = yaml.safe_load(result.stdout) if result.returncode == 0 else {}
    else:
        pytest.skip("neither `docker compose` (v2) nor `docker-compose` (v1) is installed")
    assert result.returncode == 0, result.stderr
    services = rendered["services"]
    assert set(NODES) <= set(services)
    for name in SERVICES:
        assert int(services[name]["deploy"]["replicas"]) == 2, name
        assert services[name]["environment"]["NATS_URL"].split(",") == [f"nats://{n}:4222" for n in NODES], name
        assert str(services[name]["environment"]["LONGFORM_STREAM_REPLICAS"]) == "3", name


# --- the kustomize base ------------------------------------------------------------------

def _render(directory: Path) -> list[dict]:
    """What `kustomize build` starts from: every listed resource file, every document in it."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    documents = []
    for name in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((directory / name).read_text()) if d]
    return documents


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    """The base as `kubectl kustomize` renders it, or, without kubectl, as its files list it."""
    if shutil.which("kubectl") is None:
        return _render(BASE)
    return _kubectl_kustomize(BASE)


def _of_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def _containers(workload: dict) -> list[dict]:
    return workload["spec"]["template"]["spec"]["containers"]


def test_every_resource_has_an_api_version_a_kind_and_a_unique_name(resources):
    for resource in resources:
        assert resource.get("apiVersion") and resource.get("kind"), resource
        assert resource.get("metadata", {}).get("name"), resource
    ids = [(r["kind"], r["metadata"]["name"]) for r in resources]
    assert len(ids) == len(set(ids))


def test_each_service_has_a_deployment_running_its_module(resources):
    deployments = _of_kind(resources, "Deployment")
    assert set(deployments) == {f"longform-{name}" for name in SERVICES}
    for name in SERVICES:
        (container,) = _containers(deployments[f"longform-{name}"])
        assert container["image"].split(":")[0] == "longform"  # the base tags it (images:)
        assert container["command"] == ["python", "-m", f"services.{name}"]


def test_every_container_has_probes_and_bounded_resources(resources):
    for name, deployment in _of_kind(resources, "Deployment").items():
        for container in _containers(deployment):
            assert container.get("readinessProbe") and container.get("livenessProbe"), name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
    for container in _containers(_of_kind(resources, "Job")["longform-migrate"]):
        assert container["resources"]["requests"] and container["resources"]["limits"]


def _gateway_paths() -> set[str]:
    """The ops paths a GET on the gateway's app is routed to (its routes, not a copy of them)."""
    from starlette.routing import Match

    from services.gateway.config import GatewaySettings
    from services.gateway.main import create_app
    app = create_app(GatewaySettings(database_url="postgresql://unused/unused"))

    def routed(path: str) -> bool:
        scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "app": app}
        return any(route.matches(scope)[0] == Match.FULL for route in app.routes)

    return {path for path in OPS_PATHS if routed(path)}


def test_probes_ask_the_ports_and_paths_each_service_serves(resources):
    """Workers answer on their ops port (services/common/ops.py), the gateway on its app's routes:
    readiness asks /readyz, liveness /healthz, each on the port the container declares."""
    served = {**{name: (OPS_PORTS[name], set(OPS_PATHS)) for name in OPS_PORTS}, "gateway": (8080, _gateway_paths())}
    deployments = _of_kind(resources, "Deployment")
    for name in SERVICES:
        (container,) = _containers(deployments[f"longform-{name}"])
        port, paths = served[name]
        declared = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            http = container[probe]["httpGet"]
            assert http["path"] in paths, (name, probe)
            assert declared.get(http["port"], http["port"]) == port, (name, probe)
        annotations = deployments[f"longform-{name}"]["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/path"] == "/metrics" and int(annotations["prometheus.io/port"]) == port


def test_containers_listen_for_probes_on_every_interface(resources):
    config = _of_kind(resources, "ConfigMap")["longform-config"]["data"]
    assert config["LONGFORM_OPS_HOST"] == "0.0.0.0"
    (gateway,) = _containers(_of_kind(resources, "Deployment")["longform-gateway"])
    assert {"name": "LONGFORM_HOST", "value": "0.0.0.0"} in gateway["env"]


_REFERENCE_KINDS = {"configMapRef": "ConfigMap", "secretRef": "Secret",
                    "configMapKeyRef": "ConfigMap", "secretKeyRef": "Secret"}


def _env_references(container: dict) -> set[tuple[str, str]]:
    """(kind, name) of every ConfigMap and Secret the container's environment comes from."""
    sources = container.get("envFrom", []) + [var.get("valueFrom", {}) for var in container.get("env", [])]
    return {(kind, source[key]["name"]) for source in sources
            for key, kind in _REFERENCE_KINDS.items() if key in source}


def test_containers_take_their_environment_only_from_the_base_config_and_secret(resources):
    existing = {(r["kind"], r["metadata"]["name"]) for r in resources if r["kind"] in ("ConfigMap", "Secret")}
    workloads = [r for r in resources if r["kind"] in ("Deployment", "Job")]
    for workload in workloads:
        for container in _containers(workload):
            refs = _env_references(container)
            assert refs, f"{workload['metadata']['name']} gets no configuration"
            assert refs <= existing, f"{workload['metadata']['name']} refers to {refs - existing}"


def test_every_pod_is_its_own_instance(resources):
    """LONGFORM_INSTANCE from the pod's name, so each replica's llm.call events say which it was."""
    for name, deployment in _of_kind(resources, "Deployment").items():
        for container in _containers(deployment):
            env = {var["name"]: var for var in container.get("env", [])}
            assert "LONGFORM_INSTANCE" in env, name
            assert env["LONGFORM_INSTANCE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", name


def test_config_map_lists_the_retention_settings_and_leaves_retention_off(resources, monkeypatch):
    config = _of_kind(resources, "ConfigMap")["longform-config"]["data"]
    assert set(RETENTION) <= set(config)
    for name in RETENTION:
        monkeypatch.setenv(name, config[name])
    assert not RetentionSettings().on


def test_pods_get_no_service_link_variables(resources):
    # Kubernetes would inject LONGFORM_GATEWAY_PORT=tcp://... for Service longform-gateway,
    # inside the LONGFORM_ prefix that the settings read.
    for workload in (r for r in resources if r["kind"] in ("Deployment", "Job")):
        assert workload["spec"]["template"]["spec"]["enableServiceLinks"] is False, workload["metadata"]["name"]


def test_secret_template_holds_only_placeholders(resources):
    (secret,) = _of_kind(resources, "Secret").values()
    assert {"DATABASE_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"} <= set(secret["stringData"])
    for key, value in secret["stringData"].items():
        assert "REPLACE_ME" in value, f"{key} looks like a real credential in the committed template"


def test_migrate_job_applies_the_schema_once(resources):
    job = _of_kind(resources, "Job")["longform-migrate"]
    (container,) = _containers(job)
    assert container["command"] == MIGRATE_COMMAND
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")


def test_scaled_object_scales_the_generator_on_its_jetstream_consumer(resources):
    (scaled,) = _of_kind(resources, "ScaledObject").values()
    target = scaled["spec"]["scaleTargetRef"]
    assert target.get("kind", "Deployment") == "Deployment"
    assert target["name"] == "longform-generator" in _of_kind(resources, "Deployment")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "nats-jetstream"
    prefix = _of_kind(resources, "ConfigMap")["longform-config"]["data"]["LONGFORM_BUS_PREFIX"]
    assert trigger["metadata"]["stream"] == Subjects(prefix).stream == Subjects(DEFAULT_PREFIX).stream
    assert trigger["metadata"]["consumer"] == GENERATOR_CONSUMER
    assert trigger["metadata"]["account"] == "$G"
    assert int(trigger["metadata"]["lagThreshold"]) == GeneratorSettings.model_fields["chunk_workers"].default
    assert trigger["metadata"]["natsServerMonitoringEndpoint"].endswith(":8222")


def test_autoscaled_generator_leaves_its_replica_count_to_keda(resources):
    assert "replicas" not in _of_kind(resources, "Deployment")["longform-generator"]["spec"]


def _selects(selector: dict, deployment: dict) -> bool:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    return selector.items() <= labels.items()


def test_disruption_budgets_select_the_gateway_and_generator_pods(resources):
    deployments = _of_kind(resources, "Deployment")
    covered = set()
    for name, pdb in _of_kind(resources, "PodDisruptionBudget").items():
        selected = {d for d, deployment in deployments.items()
                    if _selects(pdb["spec"]["selector"]["matchLabels"], deployment)}
        assert len(selected) == 1, f"{name} selects {selected}"
        covered |= selected
    assert {"longform-gateway", "longform-generator"} <= covered


def test_deployment_selectors_match_their_own_pods(resources):
    for name, deployment in _of_kind(resources, "Deployment").items():
        assert _selects(deployment["spec"]["selector"]["matchLabels"], deployment), name


def test_gateway_service_routes_to_the_gateway_http_port(resources):
    service = _of_kind(resources, "Service")["longform-gateway"]
    deployments = _of_kind(resources, "Deployment")
    selected = [d for d, deployment in deployments.items() if _selects(service["spec"]["selector"], deployment)]
    assert selected == ["longform-gateway"]
    (gateway,) = _containers(deployments["longform-gateway"])
    ports = {p["name"]: p["containerPort"] for p in gateway["ports"]}
    (service_port,) = service["spec"]["ports"]
    assert ports[service_port["targetPort"]] == 8080


def _kubectl_kustomize(directory: Path) -> list[dict]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    result = _run(["kubectl", "kustomize", str(directory)])
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_kubectl_kustomize_builds_the_base():
    rendered = _kubectl_kustomize(BASE)
    assert {r["metadata"].get("namespace") for r in rendered if r["kind"] != "Namespace"} == {"longform"}


def test_example_overlay_replaces_the_placeholder_secret(tmp_path):
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    overlay = tmp_path / "deploy" / "overlays" / "example"
    shutil.copy(overlay / "secrets.env.example", overlay / "secrets.env")
    rendered = _kubectl_kustomize(overlay)
    (secret,) = [r for r in rendered if r["kind"] == "Secret"]
    assert "stringData" not in secret
    database_url = base64.b64decode(secret["data"]["DATABASE_URL"]).decode()
    assert "neon.tech" in database_url and "REPLACE_ME_HOST" not in database_url
    images = {c["image"] for r in rendered if r["kind"] in ("Deployment", "Job") for c in _containers(r)}
    assert images == {"registry.example.com/longform:0.1.0"}
