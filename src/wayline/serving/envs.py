"""Python environments for models (``--env-manager virtualenv|uv``), cached by content.

The model's ``python_env.yaml`` names its Python version and ``requirements.txt`` (with an
optional ``constraints.txt``) its packages. They are installed once into
``~/.cache/wayline/envs/<hash>`` (``WAYLINE_ENV_ROOT`` moves it), the hash covering the Python
version, the requirement lines and how Wayline itself is installed; a later model with the same
requirements reuses the environment at once.

Wayline must be in that environment to serve the model, but its requirement line
(``wayline==0.1.0``) may name a release no index has. It is replaced by the running
installation: the project directory of a source or editable install (installed the same way),
the wheel it came from, or, for a release from an index, the pinned version.
``WAYLINE_INSTALL_SPEC`` overrides this with any pip requirement or path.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from wayline.errors import InvalidParameter, InvalidState

ENV_ROOT_ENV = "WAYLINE_ENV_ROOT"
INSTALL_SPEC_ENV = "WAYLINE_INSTALL_SPEC"
ENV_MANAGERS = ("local", "virtualenv", "uv")
_READY = ".wayline-ready"
# Present once the environment's modules are compiled for `python -OO` (see serves_optimized).
_OPTIMIZED = ".wayline-optimized"
# Lines naming Wayline itself (or MLflow's place for it) in a requirements file.
_SELF = ("wayline",)


def env_root() -> Path:
    """Where model environments are kept (``~/.cache/wayline/envs`` by default)."""
    root = os.environ.get(ENV_ROOT_ENV)
    return Path(root) if root else Path.home() / ".cache" / "wayline" / "envs"


def wayline_install_spec() -> list[str]:
    """pip arguments that install the running Wayline into another environment.

    Example::

        wayline_install_spec()  # ['-e', '/work/wayline'] for an editable checkout
    """
    if spec := os.environ.get(INSTALL_SPEC_ENV):
        return spec.split()
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("wayline")
    except PackageNotFoundError:
        return [str(_source_root())]
    direct = dist.read_text("direct_url.json")
    if direct:
        info = json.loads(direct)
        url = urlparse(info.get("url", ""))
        if url.scheme == "file":
            path = unquote(url.path)
            editable = info.get("dir_info", {}).get("editable", False)
            return ["-e", path] if editable else [path]
    return [f"wayline=={dist.version}"]


def _source_root() -> Path:
    """The project directory holding this source tree (``src/wayline/..``)."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "pyproject.toml").is_file():
        raise InvalidState(
            "Cannot tell how to install Wayline into the model's environment: set "
            f"{INSTALL_SPEC_ENV} to a pip requirement or the path of a Wayline wheel or checkout."
        )
    return root


def _requirement_name(line: str) -> str:
    for sep in ("==", ">=", "<=", "~=", "!=", ">", "<", "[", ";", "@", " "):
        line = line.split(sep, 1)[0]
    return line.strip().lower().replace("_", "-")


def model_requirements(model_dir: str | Path) -> tuple[str, list[str]]:
    """``(python version, requirement lines without Wayline)`` recorded in a model directory."""
    model_dir = Path(model_dir)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    env_file = model_dir / "python_env.yaml"
    if env_file.is_file():
        with env_file.open(encoding="utf-8") as f:
            python = str((yaml.safe_load(f) or {}).get("python") or python)
    req_file = model_dir / "requirements.txt"
    lines: list[str] = []
    if req_file.is_file():
        for raw in req_file.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#") or _requirement_name(line) in _SELF:
                continue
            if line.startswith(("-c ", "-r ")):
                # Relative to the model directory: make it absolute for pip.
                flag, _, target = line.partition(" ")
                line = f"{flag} {model_dir.resolve() / target.strip()}"
            lines.append(line)
    return python, lines


def _digest(python: str, requirements: Sequence[str], wayline: Sequence[str], manager: str) -> str:
    text = json.dumps([python, list(requirements), list(wayline), manager])
    for line in requirements:
        if line.startswith("-c "):  # a constraints file: its content, not its path, counts
            text += Path(line[3:]).read_text(encoding="utf-8")
    for item in wayline:
        # A checkout's dependencies may change under the same path: a new list, a new env.
        if (project := Path(item) / "pyproject.toml").is_file():
            text += project.read_text(encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _find_python(version: str) -> str:
    major_minor = ".".join(version.split(".")[:2])
    if f"{sys.version_info.major}.{sys.version_info.minor}" == major_minor:
        return sys.executable
    found = shutil.which(f"python{major_minor}")
    if found is None:
        raise InvalidState(
            f"The model was saved with Python {version}, and no python{major_minor} is on PATH. "
            f"Install Python {major_minor}, or serve with --env-manager local to use this Python."
        )
    return found


def _uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found, unused-ignore]

        return str(find_uv_bin())
    except ImportError:
        raise InvalidState(
            "--env-manager uv needs uv: pip install uv (or use --env-manager virtualenv)."
        ) from None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (two servers starting at once build one env)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def env_python(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def prepare_environment(
    model_dir: str | Path, manager: str, console: Console | None = None
) -> Path:
    """The Python executable of an environment holding the model's requirements and Wayline,
    created (with progress shown) unless the cache has it.

    Example::

        python = prepare_environment("/tmp/model", "virtualenv")
        subprocess.run([python, "-m", "wayline.cli.main", "models", "serve", ...])
    """
    if manager not in ENV_MANAGERS[1:]:
        raise InvalidParameter(f"--env-manager must be one of {ENV_MANAGERS}, not {manager!r}")
    console = console or Console(stderr=True)
    python, requirements = model_requirements(model_dir)
    wayline = wayline_install_spec()
    env_dir = env_root() / _digest(python, requirements, wayline, manager)
    with _locked(env_dir.with_suffix(".lock")):
        if (env_dir / _READY).is_file():
            console.print(f"Using the cached environment {env_dir}")
            if not (env_dir / _OPTIMIZED).is_file():  # built before environments were compiled
                _compile_optimized(env_dir, wayline)
            return env_python(env_dir)
        shutil.rmtree(env_dir, ignore_errors=True)  # a build that was interrupted
        try:
            _create(env_dir, manager, python, [*requirements, *wayline], console)
        except BaseException:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise
        (env_dir / _READY).write_text(json.dumps({"python": python, "requirements": requirements}))
        _compile_optimized(env_dir, wayline)
    return env_python(env_dir)


def serves_optimized(model_dir: str | Path) -> bool:
    """Whether the model's server may run as ``python -OO``, without docstrings and asserts.

    Importing scikit-learn's stack parses SciPy's docstrings, a sixth of a server's start-up;
    without them it starts that much sooner. Only for models that hold no code of their own, so
    that no user code can lose an assert: scikit-learn models saved with skops (which loads
    trusted types only) and without ``code_paths``. Pickled estimators, custom pyfunc models
    and other flavors run as they are.
    """
    try:
        with (Path(model_dir) / "MLmodel").open(encoding="utf-8") as f:
            flavors = (yaml.safe_load(f) or {}).get("flavors") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return False
    pyfunc = flavors.get("python_function") or {}
    sklearn = flavors.get("sklearn") or {}
    return (
        pyfunc.get("loader_module") in ("mlflow.sklearn", "wayline.sklearn")
        and not pyfunc.get("code")
        and not sklearn.get("code")
        and sklearn.get("serialization_format") == "skops"
    )


def _compile_optimized(env_dir: Path, wayline: Sequence[str]) -> None:
    """Compile the environment's modules (and an editable Wayline's) for ``python -OO`` once:
    servers often run with PYTHONDONTWRITEBYTECODE, and would otherwise compile them at every
    start. Best effort: a module that does not compile is compiled when imported, as ever."""
    folders = [str(env_dir / "lib")]
    if len(wayline) == 2 and wayline[0] == "-e" and (Path(wayline[1]) / "src").is_dir():
        folders.append(str(Path(wayline[1]) / "src"))
    command = [str(env_python(env_dir)), "-OO", "-m", "compileall", "-q", "-j", "0", *folders]
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    (env_dir / _OPTIMIZED).write_text("")


def _create(
    env_dir: Path, manager: str, python: str, packages: list[str], console: Console
) -> None:
    log = env_dir.with_suffix(".log")
    if manager == "uv":
        uv = _uv()
        create = [uv, "venv", "--quiet", "--python", python, str(env_dir)]
        install = [uv, "pip", "install", "--python", str(env_python(env_dir))]
    else:
        create = [_find_python(python), "-m", "venv", str(env_dir)]
        install = [str(env_python(env_dir)), "-m", "pip", "install", "--progress-bar", "off"]
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"Creating a {manager} environment (Python {python})")
        _run(create, log, progress, task)
        progress.update(task, description=f"Installing {len(packages)} requirements")
        args: list[str] = []
        for item in packages:
            # "-r file" and "-c file" lines are two arguments to pip.
            args.extend(item.split(" ", 1) if item.startswith(("-r ", "-c ")) else [item])
        _run([*install, *args], log, progress, task)
        progress.update(task, description=f"Environment ready: {env_dir}")


def _run(command: list[str], log: Path, progress: Progress, task: TaskID) -> None:
    """Run ``command``, its output appended to ``log``; the latest line shows as progress."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            text = line.strip()
            if text.startswith(("Collecting", "Installing", "Downloading", "Building", "Resolved")):
                progress.update(task, description=text[:100])
        code = process.wait()
    if code != 0:
        tail = "\n".join(log.read_text(encoding="utf-8").splitlines()[-15:])
        raise InvalidState(
            f"Creating the model's environment failed ({command[0]} exited with {code}). Full "
            f"log: {log}\n{tail}\nFix the model's requirements.txt, or serve with "
            "--env-manager local in an environment that already has them."
        )


__all__ = [
    "ENV_MANAGERS",
    "env_root",
    "model_requirements",
    "prepare_environment",
    "serves_optimized",
    "wayline_install_spec",
]
