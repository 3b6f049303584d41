"""The ``MLmodel`` file: a model directory's YAML descriptor (spec/model-format.md §2).

Keys are MLflow's; keys this version does not know (``resources``, ``auth_policy``, a newer
MLflow's additions) are kept as they were read and written back. Wayline records its own
version under ``wayline_version``; it writes no ``mlflow_version`` because MLflow's loader does
not read one (``Model.from_dict`` accepts its absence), but one read from an MLflow model is
kept.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

import yaml

from wayline.errors import NotFound
from wayline.models.signature import ModelSignature
from wayline.types.params import ParamSchema
from wayline.types.schema import Schema

MLMODEL_FILE_NAME = "MLmodel"
WAYLINE_VERSION_KEY = "wayline_version"

# Attributes held on Model itself; any other MLmodel key goes to `extras`.
_FIELDS = (
    "artifact_path",
    "run_id",
    "utc_time_created",
    "flavors",
    "signature",
    "saved_input_example_info",
    "model_uuid",
    "model_id",
    "metadata",
    "model_size_bytes",
    "prompts",
    "env_vars",
)


def _wayline_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wayline")
    except PackageNotFoundError:
        return "0.1.0"


def now_utc() -> str:
    """MLflow's ``utc_time_created`` text: naive UTC, space-separated, microseconds."""
    return str(dt.datetime.now(dt.UTC).replace(tzinfo=None))


class Model:
    """An MLmodel descriptor: flavors, signature, example info and provenance.

    Example::

        from wayline.models import Model

        model = Model(metadata={"owner": "me"})
        model.add_flavor("python_function", loader_module="mlflow.pyfunc.model")
        model.save("model_dir/MLmodel")
        Model.load("model_dir").metadata  # {"owner": "me"}
    """

    def __init__(
        self,
        artifact_path: str | None = None,
        run_id: str | None = None,
        utc_time_created: str | None = None,
        flavors: dict[str, Any] | None = None,
        signature: ModelSignature | None = None,
        saved_input_example_info: dict[str, Any] | None = None,
        model_uuid: str | None = None,
        model_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        model_size_bytes: int | None = None,
        prompts: list[str] | None = None,
        env_vars: list[str] | None = None,
        **extras: Any,
    ) -> None:
        self.artifact_path = artifact_path
        self.run_id = run_id
        self.utc_time_created = utc_time_created or now_utc()
        self.flavors: dict[str, Any] = flavors if flavors is not None else {}
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = model_uuid or uuid.uuid4().hex
        self.model_id = model_id
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        self.prompts = prompts
        self.env_vars = env_vars
        self.extras: dict[str, Any] = {WAYLINE_VERSION_KEY: _wayline_version(), **extras}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.model_uuid)

    def add_flavor(self, name: str, **params: Any) -> Model:
        """Record how a flavor loads this model (``python_function`` for pyfunc)."""
        self.flavors[name] = params
        return self

    def get_input_schema(self) -> Schema | None:
        """The signature's input schema (None without a signature)."""
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Schema | None:
        """The signature's output schema (None without a signature)."""
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> ParamSchema | None:
        """The signature's params schema (None without one)."""
        return self.signature.params if self.signature is not None else None

    @property
    def mlflow_version(self) -> str | None:
        """The MLflow version that wrote the file (None for Wayline's)."""
        value = self.extras.get("mlflow_version")
        return None if value is None else str(value)

    def to_dict(self) -> dict[str, Any]:
        """The MLmodel mapping; optional keys left unset are omitted (as MLflow omits them)."""
        res: dict[str, Any] = {
            "flavors": self.flavors,
            "model_uuid": self.model_uuid,
            "model_id": self.model_id,
            "utc_time_created": self.utc_time_created,
            "prompts": self.prompts,
        }
        for key in ("artifact_path", "run_id", "saved_input_example_info", "metadata"):
            if getattr(self, key) is not None:
                res[key] = getattr(self, key)
        if self.model_size_bytes is not None:
            res["model_size_bytes"] = self.model_size_bytes
        if self.env_vars is not None:
            res["env_vars"] = self.env_vars
        if self.signature is not None:
            res["signature"] = self.signature.to_dict()
            res["is_signature_from_type_hint"] = self.signature._is_signature_from_type_hint
            res["type_hint_from_example"] = self.signature._is_type_hint_from_example
        res.update({k: v for k, v in self.extras.items() if k not in res})
        return res

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), default_flow_style=False)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the YAML to ``path`` (the MLmodel file itself)."""
        with open(path, "w", encoding="utf-8") as out:
            yaml.safe_dump(self.to_dict(), out, default_flow_style=False)

    @classmethod
    def from_dict(cls, model_dict: dict[str, Any]) -> Model:
        """The Model an MLmodel mapping describes (MLflow's or Wayline's)."""
        d = dict(model_dict)
        signature = None
        if isinstance(d.get("signature"), dict):
            signature = ModelSignature.from_dict(d["signature"])
            signature._is_signature_from_type_hint = bool(
                d.pop("is_signature_from_type_hint", False)
            )
            signature._is_type_hint_from_example = bool(d.pop("type_hint_from_example", False))
        d["signature"] = signature
        known = {k: d.pop(k) for k in _FIELDS if k in d}
        model = cls(**known)
        # What the file says, not this process: a file without wayline_version stays without.
        model.extras = d
        return model

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read the MLmodel file at ``path`` (the file, or the model directory holding it), or
        of a model URI (``runs:/<run>/<path>``, ``models:/m-<id>``, a storage URI).

        Example::

            Model.load("/tmp/model").flavors["python_function"]["loader_module"]
            Model.load("models:/m-0123456789abcdef0123456789abcdef").signature
        """
        from wayline.artifacts.uris import uri_scheme

        path = os.fspath(path)
        if not os.path.exists(path) and uri_scheme(path) not in ("", "file"):
            return cls._load_uri(path)
        file = (
            path
            if os.path.basename(path.rstrip("/\\")) == MLMODEL_FILE_NAME
            else os.path.join(path, MLMODEL_FILE_NAME)
        )
        if not os.path.isfile(file):
            raise NotFound(
                f'Could not find an "{MLMODEL_FILE_NAME}" configuration file at "{path}"'
            )
        with open(file, encoding="utf-8") as f:
            return cls.from_dict(yaml.safe_load(f) or {})

    @classmethod
    def _load_uri(cls, uri: str) -> Model:
        """The MLmodel of a model URI (``runs:/``, ``models:/m-<id>``, ``s3://`` ...)."""
        import tempfile

        from wayline.artifacts import download_artifacts

        base = uri.rstrip("/")
        if not base.endswith("/" + MLMODEL_FILE_NAME):
            base = f"{base}/{MLMODEL_FILE_NAME}"
        with tempfile.TemporaryDirectory() as tmp:
            return cls.load(download_artifacts(artifact_uri=base, dst_path=tmp))

    def get_model_info(self) -> ModelInfo:
        """A ``ModelInfo`` for this descriptor."""
        return ModelInfo(self)


class ModelInfo:
    """What ``log_model`` returns: the logged model's URI, ids, signature and flavors.

    Example::

        info = wayline.pyfunc.log_model(name="model", python_model=MyModel())
        loaded = wayline.pyfunc.load_model(info.model_uri)  # models:/m-...
    """

    def __init__(self, model: Model) -> None:
        self._model = model
        self._registered_model_version: int | None = None

    @property
    def model_uri(self) -> str:
        m = self._model
        return f"models:/{m.model_id}" if m.model_id else f"runs:/{m.run_id}/{m.artifact_path}"

    @property
    def registered_model_version(self) -> int | None:
        """The version ``log_model(..., registered_model_name=...)`` registered, else None."""
        return self._registered_model_version

    @registered_model_version.setter
    def registered_model_version(self, value: int | None) -> None:
        self._registered_model_version = value

    @property
    def artifact_path(self) -> str | None:
        return self._model.artifact_path

    @property
    def run_id(self) -> str | None:
        return self._model.run_id

    @property
    def model_id(self) -> str | None:
        return self._model.model_id

    @property
    def model_uuid(self) -> str:
        return self._model.model_uuid

    @property
    def flavors(self) -> dict[str, Any]:
        return self._model.flavors

    @property
    def signature(self) -> ModelSignature | None:
        return self._model.signature

    @property
    def saved_input_example_info(self) -> dict[str, Any] | None:
        return self._model.saved_input_example_info

    @property
    def utc_time_created(self) -> str:
        return self._model.utc_time_created

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self._model.metadata

    @property
    def env_vars(self) -> list[str] | None:
        return self._model.env_vars

    def __repr__(self) -> str:
        return f"ModelInfo(model_uri={self.model_uri!r})"


__all__ = ["MLMODEL_FILE_NAME", "Model", "ModelInfo", "now_utc"]
