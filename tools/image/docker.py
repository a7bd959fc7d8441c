"""The one door to Docker: every question this toolkit asks the docker CLI or the engine.

The buildx build itself is a step of the plan (``tools.image.plan``) that the runner
carries out through the docker CLI, because the SDK has no buildx; everything else is
asked here:

* the CLI: its version and buildx plugin (remembered per machine until the CLI or its
  plugins change) and `docker buildx inspect` (the SDK cannot see buildx builders);
* the engine, through the docker SDK: /info, the local image store, registry lookups,
  client credentials, containers (extract reads files out of one);
* whether an engine listens at all, with one /_ping on its socket: a dry run asks it
  and must not pay for importing the SDK.

The SDK is imported only inside the functions that use it, so nothing that merely
plans imports it; without it, those functions say so in one sentence.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from tools.errors import ToolkitError
from tools.image import resources
from tools.image.answers import (
    SDK_MISSING,
    BuilderAnswer,
    BuilderReport,
    DockerCli,
    Logins,
    explain_connect_error,
    files_from_tar,
    network_error,
    parse_inspect,
)
from tools.image.resources import EngineUnavailable, Resources
from tools.run import query, start

#: How long a question to the engine may take before we give up on it.
ENGINE_TIMEOUT = 5.0
#: How long the engine may take to answer a ping before a dry run says it is missing.
PING_TIMEOUT = 1.0


# --- the docker CLI ------------------------------------------------------------------------


def no_docker(docker: str) -> str:
    return (
        f"The docker CLI `{docker}` was not found; install Docker or pass --docker=/path/to/docker."
    )


def ask_cli(docker: str) -> DockerCli:
    missing = no_docker(docker)
    buildx = start([docker, "buildx", "version"], missing=missing)
    version = start([docker, "--version"], missing=missing)
    bx_out, _ = buildx.communicate()
    v_out, v_err = version.communicate()
    if version.returncode != 0:
        raise ToolkitError(
            f"`{docker} --version` failed ({v_err.strip()}); check the docker CLI or pass --docker."
        )
    match = re.search(r"version\s+([0-9][^\s,]*)", v_out)
    bx = None
    if buildx.returncode == 0:
        found = re.search(r"\bv?(\d+\.\d+[^\s]*)", bx_out)
        bx = found.group(1) if found else "unknown"
    return DockerCli(
        path=docker, buildx_version=bx, client_version=match.group(1) if match else "unknown"
    )


def inspect_builder(docker: str, name: str | None = None) -> BuilderReport | None:
    """`docker buildx inspect [NAME]`: None when there is no such builder."""
    argv = [docker, "buildx", "inspect"] + ([name] if name else [])
    proc = query(argv, missing=no_docker(docker))
    if proc.returncode != 0:
        return None
    report = parse_inspect(proc.stdout)
    if report is None:
        raise ToolkitError(
            f"Could not read the builder from `{' '.join(argv)}`; pass --builder NAME to choose one."
        )
    return report


def engine_state(environ: Mapping[str, str]) -> Optional[str]:
    """``up`` or ``down: <why>`` for an engine on a local socket; None when it cannot be told
    cheaply (TCP, SSH, a docker context): the build will find out."""
    host = environ.get("DOCKER_HOST", "")
    if environ.get("DOCKER_CONTEXT") or current_context(environ) not in ("", "default"):
        return None
    if host and not host.startswith("unix://"):
        return None
    path = host[len("unix://") :] if host else "/var/run/docker.sock"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(PING_TIMEOUT)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = sock.recv(64)
    except FileNotFoundError:
        return f"down: nothing listens at unix://{path}"
    except PermissionError:
        return f"down: permission denied on unix://{path}"
    except OSError as exc:
        return f"down: unix://{path} does not answer ({exc.strerror or exc})"
    return "up" if answer.startswith(b"HTTP/1.") else f"down: unix://{path} is not an engine"


def docker_config_dir(environ: Mapping[str, str]) -> Path:
    """The docker client's config folder: ``$DOCKER_CONFIG``, else ``~/.docker``."""
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"])
    return Path(environ.get("HOME") or Path.home()) / ".docker"


def current_context(environ: Mapping[str, str]) -> str:
    try:
        data = json.loads((docker_config_dir(environ) / "config.json").read_text())
    except (OSError, ValueError):
        return ""
    return str(data.get("currentContext") or "") if isinstance(data, dict) else ""


# --- the engine, through the docker SDK ----------------------------------------------------


def client_kwargs(environ: Optional[Mapping[str, str]] = None) -> Mapping[str, Any]:
    """Where the docker CLI would connect: DOCKER_HOST, else DOCKER_CONTEXT or the current context.

    The SDK's own ``from_env`` reads only DOCKER_HOST, but Docker Desktop and Colima
    point the CLI at their engine through a context.
    """
    environ = os.environ if environ is None else environ
    from docker.utils import kwargs_from_env

    if environ.get("DOCKER_HOST"):
        return kwargs_from_env(environment=dict(environ))
    try:
        from docker.context import ContextAPI
        from docker.context.config import get_current_context_name

        name = environ.get("DOCKER_CONTEXT") or get_current_context_name()
        if name and name != "default":
            context = ContextAPI.get_context(name)
            if context is not None and context.Host:
                kwargs: dict = {"base_url": context.Host}
                if context.TLSConfig:
                    kwargs["tls"] = context.TLSConfig
                if context.Host.startswith("ssh://"):
                    kwargs["use_ssh_client"] = True
                return kwargs
    except Exception:  # noqa: BLE001 - a broken context store: fall back to the default socket
        pass
    return kwargs_from_env(environment=dict(environ))


def connect(timeout: float = ENGINE_TIMEOUT, environ: Optional[Mapping[str, str]] = None) -> Any:
    """A docker SDK client that has reached the engine, or :class:`EngineUnavailable`."""
    try:
        import docker
    except ImportError:
        raise EngineUnavailable(SDK_MISSING) from None
    # Nox logs at debug level; the SDK's and urllib3's request lines are noise there.
    for name in ("docker", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    kwargs = client_kwargs(environ)
    endpoint = kwargs.get("base_url") or "unix:///var/run/docker.sock"
    try:
        # version "auto" asks the engine at once, so an absent engine fails here.
        # types-docker says int; the SDK hands the timeout to requests, which takes a float.
        return docker.DockerClient(version="auto", timeout=timeout, **kwargs)  # type: ignore[arg-type]
    except docker.errors.DockerException as exc:
        _close_orphaned_sockets(exc)
        raise EngineUnavailable(explain_connect_error(str(exc), endpoint)) from None


def _close_orphaned_sockets(exc: BaseException) -> None:
    """Close the sockets left in the frames a failed connection attempt unwound.

    The SDK's unix-socket connection (docker 7.1 ``UnixHTTPConnection.connect``) does not
    close its socket when ``connect()`` fails (an open fix: docker/docker-py#3356), and the
    client that would own it was never built: only the exception's traceback still holds it.
    """
    seen: set[int] = set()
    pending: list[Optional[BaseException]] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        pending += [error.__cause__, error.__context__]
        tb = error.__traceback__
        while tb is not None:
            for value in tb.tb_frame.f_locals.values():
                if isinstance(value, socket.socket):
                    value.close()
            tb = tb.tb_next


def endpoint_of(client: Any) -> str:
    url = str(getattr(client.api, "base_url", "") or "")
    if url.startswith("http+docker://"):
        # The SDK rewrites unix sockets; show the address people know.
        adapter = client.api.get_adapter(url)
        socket_path = getattr(adapter, "socket_path", None)
        if socket_path:
            return f"unix://{socket_path}"
    return url


def engine_info(docker_cli: str = "docker", timeout: float = ENGINE_TIMEOUT) -> dict:
    """The engine's /info answer: through the SDK, or ``docker info`` without the SDK."""
    try:
        import docker  # noqa: F401
    except ImportError:
        return _cli_info(docker_cli, timeout)
    client = connect(timeout)
    try:
        return client.info()
    except Exception as exc:  # noqa: BLE001 - any failure means: no usable engine
        raise EngineUnavailable(f"the engine did not answer /info ({exc})") from None
    finally:
        client.close()


def _cli_info(docker_cli: str, timeout: float) -> dict:
    try:
        proc = query([docker_cli, "info", "--format", "{{json .}}"], timeout=timeout * 2)
    except ToolkitError as exc:
        raise EngineUnavailable(f"`{docker_cli} info` failed ({exc})") from None
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        info = None
    if proc.returncode != 0 or not isinstance(info, dict) or info.get("ServerErrors"):
        raise EngineUnavailable(f"`{docker_cli} info` found no engine")
    return info


def engine_resources(docker_cli: str = "docker") -> Resources:
    """The engine's memory and CPUs; the host's (source "host") when no engine answers."""
    try:
        return resources.resources_from_info(engine_info(docker_cli))
    except EngineUnavailable:
        return resources.host_resources()


# --- images and registries -----------------------------------------------------------------


def has_image(client: Any, ref: str) -> Tuple[bool, str]:
    """(in the local image store?, why it could not be told or "")."""
    import docker

    try:
        client.images.get(ref)
        return True, ""
    except docker.errors.ImageNotFound:
        return False, ""
    except docker.errors.DockerException as exc:
        return False, f"the engine could not look it up ({exc})"


def ask_registry(client: Any, ref: str, timeout: float) -> Tuple[str, str]:
    """found | missing | denied | unreachable, and why; the engine asks the registry."""
    import docker

    before = client.api.timeout
    client.api.timeout = timeout
    try:
        client.images.get_registry_data(ref)
        return "found", ""
    except docker.errors.NotFound as exc:
        return "missing", str(exc.explanation or exc)
    except docker.errors.APIError as exc:
        text = str(exc.explanation or exc)
        if exc.status_code in (401, 403) or "unauthorized" in text or "denied" in text:
            return "denied", text
        if "manifest unknown" in text or "not found" in text.lower():
            return "missing", text
        return "unreachable", network_error(text) if text else f"HTTP {exc.status_code}"
    except Exception as exc:  # timeouts and connection errors of the SDK's transport
        text = str(exc)
        if "timed out" in text.lower():
            return "unreachable", f"no answer within {timeout:g} s"
        return "unreachable", network_error(text)
    finally:
        client.api.timeout = before


# --- builders (the CLI: the SDK has no buildx) --------------------------------------------


def ask_builder(
    docker: str, name: Optional[str], environ: Mapping[str, str], bootstrap_timeout: float
) -> BuilderAnswer:
    """Inspect the builder (the current one for None), starting it when it is idle.

    An idle docker-container (or kubernetes, remote) builder lists no platforms until it
    runs; the build would start it anyway.
    """
    argv = [docker, "buildx", "inspect"] + ([name] if name else [])
    proc = query(argv, env=environ, timeout=30)
    report = parse_inspect(proc.stdout) if proc.returncode == 0 else None
    if report is None:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return BuilderAnswer(None, lines[-1] if lines else "no output")
    if report.driver == "docker" or report.running or report.node_errors:
        return BuilderAnswer(report)
    try:
        booted = query(
            [docker, "buildx", "inspect", "--bootstrap", report.name],
            env=environ,
            timeout=bootstrap_timeout,
        )
    except ToolkitError:
        return BuilderAnswer(report, bootstrap="timeout")
    started = parse_inspect(booted.stdout) or report
    if booted.returncode != 0 and not started.node_errors:
        error = (booted.stderr or booted.stdout).strip().splitlines()
        started = BuilderReport(
            started.name, started.driver, started.nodes, error[-1] if error else "boot failed"
        )
    return BuilderAnswer(started, bootstrap="started")


# --- registry logins (the docker client's config and credential stores) -------------------


def normalise_server(key: str) -> str:
    from tools.image.images import registry_host

    return registry_host(re.sub(r"^[a-z]+://", "", key.strip()).split("/", 1)[0])


def find_logins(registries: Sequence[str], config_dir: Path, environ: Mapping[str, str]) -> Logins:
    """Read the client config (``docker.auth``) and ask credential stores
    (``docker.credentials``) the way the docker CLI does."""
    path = config_dir / "config.json"
    if not registries:
        return Logins(path)
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict):
            raise ValueError("not an object")
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        return Logins(path, config_error=f"{path} cannot be read ({exc})")
    try:
        from docker import auth, credentials
    except ImportError:
        return Logins(path, sdk_missing=True)
    config = auth.load_config(config_path=str(path), credstore_env=dict(environ))
    auths = {normalise_server(k) for k in config.auths}
    helpers = {normalise_server(k): v for k, v in config.cred_helpers.items()}
    listed: Dict[str, set] = {}
    found: List[str] = []
    missing: List[str] = []
    for registry in registries:
        if registry in auths:
            found.append(f"{registry} ({path.name})")
            continue
        if registry in helpers:
            found.append(f"{registry} (docker-credential-{helpers[registry]})")
            continue
        store = config.creds_store
        if store:
            if store not in listed:
                try:
                    answer = credentials.Store(store, environment=dict(environ)).list()
                    listed[store] = {normalise_server(k) for k in answer}
                except (credentials.StoreError, ValueError, OSError) as exc:
                    return Logins(
                        path,
                        store_error=str(exc).strip()[:120],
                        store=store,
                        store_registry=registry,
                    )
            if registry in listed[store]:
                found.append(f"{registry} (docker-credential-{store})")
                continue
        missing.append(registry)
    return Logins(path, tuple(found), tuple(missing))


# --- containers (extract) ------------------------------------------------------------------


def cli_endpoint(docker: str) -> Dict[str, str]:
    """Where the named docker CLI connects (its current context), as DOCKER_HOST for the SDK."""
    proc = query(
        [docker, "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"],
        missing=no_docker(docker),
    )
    host = proc.stdout.strip()
    return {"DOCKER_HOST": host} if proc.returncode == 0 and host else {}


def image_architecture(client: Any, image: str) -> Tuple[bool, Optional[str]]:
    """(in the local image store?, its architecture)."""
    from docker.errors import ImageNotFound

    try:
        return True, client.images.get(image).attrs.get("Architecture")
    except ImageNotFound:
        return False, None


def read_paths(
    client: Any, image: str, platform: str, paths: Sequence[str]
) -> Dict[str, Optional[Dict[str, Tuple[bytes, int]]]]:
    """The files under each of ``paths`` in ``image`` (None where a path does not exist).

    A container is created (never started) from the image, read through the engine's
    archive API, and removed whatever happens.
    """
    from docker.errors import APIError, NotFound

    try:
        container = client.containers.create(image, command=["none"], platform=platform)
    except APIError as exc:
        raise ToolkitError(
            f"The engine refused to open `{image}` for {platform}: {exc.explanation}."
        ) from None
    found: Dict[str, Optional[Dict[str, Tuple[bytes, int]]]] = {}
    try:
        for path in paths:
            try:
                stream, _ = container.get_archive(path)
            except NotFound:
                found[path] = None
                continue
            found[path] = files_from_tar(b"".join(stream))
    finally:
        container.remove(force=True)
    return found
