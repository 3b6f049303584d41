"""The environment a model needs: ``requirements.txt``, ``python_env.yaml``, ``conda.yaml``.

Written as MLflow writes them. The requirements are, in order: Wayline itself (MLflow puts
``mlflow==<ver>`` first), the flavor's library, and the distributions the model's own code
imports — found by reading the imports of the model's classes and functions and of its
``code_paths`` files, mapped to distributions with ``importlib.metadata`` and pinned to the
installed versions. ``pip_requirements`` replaces the inferred list, ``extra_pip_requirements``
adds to it, and ``conda_env`` gives the whole environment, as with MLflow.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import types
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from wayline.errors import InvalidParameter

REQUIREMENTS_FILE = "requirements.txt"
CONSTRAINTS_FILE = "constraints.txt"
CONDA_ENV_FILE = "conda.yaml"
PYTHON_ENV_FILE = "python_env.yaml"
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
# Distributions never worth recording: the installer and Wayline itself (pinned first anyway).
_SKIP = {"pip", "setuptools", "wheel", "wayline"}


def package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def pinned(name: str) -> str:
    """``name==<installed version>`` (just ``name`` when it is not installed)."""
    v = package_version(name)
    return f"{name}=={v}" if v else name


def _top_names_of(fn: Any, seen: set[int]) -> set[str]:
    """Top-level module names the globals a function uses come from."""
    names: set[str] = set()
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None or id(code) in seen:
        return names
    seen.add(id(code))
    stack = [code]
    used: set[str] = set()
    while stack:
        c = stack.pop()
        used.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    for name in used:
        value = fn.__globals__.get(name)
        if isinstance(value, types.ModuleType):
            names.add(value.__name__.split(".")[0])
        elif (module := getattr(value, "__module__", None)) and isinstance(module, str):
            names.add(module.split(".")[0])
    return names


def modules_of(obj: Any) -> set[str]:
    """Top-level modules an object's class, methods and attributes come from.

    Example::

        modules_of(MyModel())  # {"sklearn", "numpy", "my_package", ...}
    """
    found: set[str] = set()
    seen: set[int] = set()
    classes = [c for c in type(obj).__mro__ if c is not object]
    for cls in classes:
        found.add(cls.__module__.split(".")[0])
        for attr in vars(cls).values():
            target = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
            if callable(target):
                found |= _top_names_of(target, seen)
    for value in getattr(obj, "__dict__", {}).values():
        found.add(type(value).__module__.split(".")[0])
    if inspect.isfunction(obj):
        found |= _top_names_of(obj, seen)
    return found


def modules_in_files(paths: Iterable[str]) -> set[str]:
    """Top-level modules the Python files under ``paths`` import (absolute imports only)."""
    found: set[str] = set()
    for path in paths:
        files = (
            [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".py")]
            if os.path.isdir(path)
            else [path]
            if path.endswith(".py")
            else []
        )
        for file in files:
            with open(file, encoding="utf-8") as f:
                tree = ast.parse(f.read(), filename=file)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def local_module_names(paths: Iterable[str]) -> set[str]:
    """Module names ``code_paths`` provide themselves (not to be installed from an index)."""
    names = set()
    for path in paths:
        base = os.path.basename(os.path.normpath(path))
        names.add(base[:-3] if base.endswith(".py") else base)
        if os.path.isdir(path):
            names.update(n[:-3] if n.endswith(".py") else n for n in os.listdir(path))
    return names


def distributions_for(modules: Iterable[str]) -> list[str]:
    """Pinned requirements of the installed distributions providing ``modules`` (the standard
    library and modules no distribution provides are left out)."""
    from importlib.metadata import packages_distributions

    mapping = packages_distributions()
    dists: set[str] = set()
    for module in modules:
        if module in sys.stdlib_module_names or module.startswith("_"):
            continue
        dists.update(mapping.get(module, []))
    return [pinned(d) for d in sorted(dists, key=str.lower) if d.lower() not in _SKIP]


def requirements_of(
    model: Any = None, code_files: Sequence[str] | None = None, flavor_packages: Sequence[str] = ()
) -> list[str]:
    """Pinned requirements of a model object: the flavor's packages, then the distributions its
    classes, functions and attributes and the given code files import.

    Example::

        requirements_of(MyModel(), ["helpers.py"], flavor_packages=["cloudpickle"])
        # ["cloudpickle==3.1.3", "numpy==2.4.6", "scikit-learn==1.9.1"]
    """
    modules = modules_of(model) if model is not None else set()
    paths = list(code_files or [])
    modules |= modules_in_files(paths)
    modules -= local_module_names(paths)
    found = [pinned(p) for p in flavor_packages]
    names = {_name(r) for r in found}
    found += [r for r in distributions_for(modules) if _name(r) not in names]
    return found


# The library each flavor's models need (flavors add theirs here).
FLAVOR_PACKAGES: dict[str, list[str]] = {
    "python_function": ["cloudpickle"],
    "sklearn": ["scikit-learn"],
    "xgboost": ["xgboost"],
    "lightgbm": ["lightgbm"],
    "pytorch": ["torch"],
    # The pyfunc form runs on onnxruntime, so a served model needs both.
    "onnx": ["onnx", "onnxruntime"],
}


def infer_pip_requirements(
    model_uri: str, flavor: str = "python_function", fallback: list[str] | None = None
) -> list[str]:
    """Pinned requirements of a saved model: its flavor's library and what its code imports.

    The model is loaded (in this process) to see its objects; ``fallback`` is returned, with
    a warning, if that fails, as MLflow does.

    Example::

        from wayline.models import infer_pip_requirements

        infer_pip_requirements("path/to/model", "python_function")
        # ["cloudpickle==3.1.3", "scikit-learn==1.9.1"]
    """
    import logging

    from wayline.models.model import Model

    try:
        meta = Model.load(model_uri)
        conf = meta.flavors.get("python_function") or {}
        files = []
        if conf.get("code"):
            files.append(os.path.join(model_uri, conf["code"]))
        if conf.get("model_code_path"):
            files.append(os.path.join(model_uri, os.path.basename(conf["model_code_path"])))
        obj = None
        if conf:
            from wayline.pyfunc.loading import load_model

            loaded = load_model(model_uri)
            raw = loaded.get_raw_model()
            obj = getattr(raw, "python_model", raw)
        return requirements_of(obj, files, FLAVOR_PACKAGES.get(flavor, []))
    except Exception:  # MLflow's contract: any failure gives the fallback
        if fallback is None:
            raise
        logging.getLogger(__name__).warning(
            "Failed to infer the requirements of %s; using %s", model_uri, fallback, exc_info=True
        )
        return fallback


def _name(requirement: str) -> str:
    for sep in ("==", ">=", "<=", "~=", "!=", ">", "<", "[", ";", " "):
        requirement = requirement.split(sep, 1)[0]
    return requirement.strip().lower().replace("_", "-")


def _read_requirements(spec: str | Sequence[str]) -> tuple[list[str], list[str]]:
    """``(requirements, constraints)`` of a list of lines or a requirements file's path; ``-r``
    and ``-c`` lines are followed, as pip does."""
    if isinstance(spec, str):
        with open(spec, encoding="utf-8") as f:
            return _read_requirements(f.read().splitlines())
    if not all(isinstance(x, str) for x in spec):
        raise InvalidParameter("pip requirements must be a file path or a list of strings")
    reqs: list[str] = []
    cons: list[str] = []
    for raw in spec:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r ") or line.startswith("--requirement "):
            sub_reqs, sub_cons = _read_requirements(line.split(maxsplit=1)[1])
            reqs += sub_reqs
            cons += sub_cons
        elif line.startswith("-c ") or line.startswith("--constraint "):
            cons += _read_requirements(line.split(maxsplit=1)[1])[0]
        else:
            reqs.append(line)
    return reqs, cons


def _dedupe(reqs: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for r in reqs:
        seen.setdefault(_name(r), r)  # the first mention wins (the explicit one comes first)
    return list(seen.values())


def conda_env(pip_requirements: list[str]) -> dict[str, Any]:
    """MLflow's conda environment around a list of pip requirements."""
    pip_version = package_version("pip")
    return {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={PYTHON_VERSION}",
            f"pip<={pip_version}" if pip_version else "pip",
            {"pip": pip_requirements},
        ],
    }


def _conda_pip(env: dict[str, Any]) -> list[str]:
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            return [str(x) for x in dep["pip"]]
    return []


def resolve_requirements(
    inferred: list[str],
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    conda_env_arg: str | dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str], list[str]]:
    """``(conda env, requirements, constraints)`` from MLflow's three arguments (at most one
    of ``pip_requirements``, ``extra_pip_requirements``, ``conda_env`` may be given)."""
    given = [x is not None for x in (pip_requirements, extra_pip_requirements, conda_env_arg)]
    if sum(given) > 1:
        raise InvalidParameter(
            "Only one of `conda_env`, `pip_requirements`, and `extra_pip_requirements` can be "
            "specified at the same time."
        )
    env: dict[str, Any] | None = None
    constraints: list[str] = []
    if conda_env_arg is not None:
        if isinstance(conda_env_arg, str):
            with open(conda_env_arg, encoding="utf-8") as f:
                conda_env_arg = yaml.safe_load(f)
        if not isinstance(conda_env_arg, dict):
            raise InvalidParameter("conda_env must be a dict or the path of a conda YAML file")
        env = conda_env_arg
        reqs, constraints = _read_requirements(_conda_pip(env))
    elif pip_requirements is not None:
        reqs, constraints = _read_requirements(pip_requirements)
    elif extra_pip_requirements is not None:
        extra, constraints = _read_requirements(extra_pip_requirements)
        reqs = inferred + extra
    else:
        reqs = list(inferred)
    if not any(_name(r) == "wayline" for r in reqs):
        reqs.insert(0, pinned("wayline"))
    reqs = _dedupe(reqs)
    if constraints:
        reqs.append(f"-c {CONSTRAINTS_FILE}")
    if env is None:
        env = conda_env(reqs)
    else:
        env = {
            **env,
            "dependencies": [
                d for d in env.get("dependencies", []) if not (isinstance(d, dict) and "pip" in d)
            ]
            + [{"pip": reqs}],
        }
    return env, reqs, constraints


def write_environment(
    path: str,
    inferred: list[str],
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    conda_env_arg: str | dict[str, Any] | None = None,
) -> list[str]:
    """Write conda.yaml, requirements.txt, python_env.yaml (and constraints.txt) into the model
    directory ``path``; returns the requirement lines."""
    env, reqs, constraints = resolve_requirements(
        inferred, pip_requirements, extra_pip_requirements, conda_env_arg
    )
    with open(os.path.join(path, CONDA_ENV_FILE), "w", encoding="utf-8") as f:
        yaml.safe_dump(env, f, default_flow_style=False)
    if constraints:
        with open(os.path.join(path, CONSTRAINTS_FILE), "w", encoding="utf-8") as f:
            f.write("\n".join(constraints))
    with open(os.path.join(path, REQUIREMENTS_FILE), "w", encoding="utf-8") as f:
        f.write("\n".join(reqs))
    python_env = {
        "python": PYTHON_VERSION,
        "build_dependencies": [pinned(p) for p in ("pip", "setuptools", "wheel")],
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    with open(os.path.join(path, PYTHON_ENV_FILE), "w", encoding="utf-8") as f:
        yaml.safe_dump(python_env, f, sort_keys=False, default_flow_style=False)
    return reqs


__all__ = [
    "CONDA_ENV_FILE",
    "FLAVOR_PACKAGES",
    "PYTHON_ENV_FILE",
    "REQUIREMENTS_FILE",
    "infer_pip_requirements",
    "modules_in_files",
    "modules_of",
    "pinned",
    "requirements_of",
    "resolve_requirements",
    "write_environment",
]
