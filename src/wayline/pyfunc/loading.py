"""``load_model`` and ``PyFuncModel``: any pyfunc model behind one ``predict``.

A model URI (local path, ``runs:/<run>/<path>``, ``models:/m-<id>``, any artifact URI) is
downloaded, the ``python_function`` flavor's ``loader_module`` is imported and its
``_load_pyfunc(data_path[, model_config])`` called, as MLflow does, so any flavor can plug in.
MLflow's loader names (``mlflow.<x>``) are read as Wayline's (``wayline.<x>``); a name with no
Wayline counterpart is imported as written (it works where MLflow is installed).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from typing import Any

from wayline.errors import NotFound, WaylineError
from wayline.models.code import add_code_to_path
from wayline.models.enforce import enforce_params, enforce_schema
from wayline.models.model import MLMODEL_FILE_NAME, Model

_logger = logging.getLogger(__name__)
FLAVOR_NAME = "python_function"


def _loader(name: str) -> Any:
    candidates = [name]
    if name.startswith("mlflow."):
        candidates.insert(0, "wayline." + name.removeprefix("mlflow."))
    for candidate in candidates:
        try:
            return importlib.import_module(candidate)
        except ModuleNotFoundError as e:
            # Only a missing loader moves on; a loader that fails to import its own needs is
            # reported as it is.
            if e.name is None or not candidate.startswith(e.name):
                raise
    raise WaylineError(
        f"This model's loader {name!r} is not available: Wayline has no counterpart of it and "
        f"it is not installed. Install the package providing {name!r} to load this model."
    )


class PyFuncModel:
    """A loaded model: ``predict`` checks inputs and params against the signature first.

    Example::

        model = wayline.pyfunc.load_model("models:/m-0123...")
        model.predict(pd.DataFrame({"x": [1.0, 2.0]}), params={"mult": 3.0})
        model.metadata.signature
    """

    def __init__(self, model_meta: Model, model_impl: Any, predict_fn: str = "predict") -> None:
        self._model_meta = model_meta
        self._model_impl = model_impl
        self._predict_fn = getattr(model_impl, predict_fn)
        # Only an explicit ``params`` parameter takes them: ``**params`` (a scikit-learn
        # Pipeline's predict_proba, say) forwards keywords to the estimators instead. Decided
        # once: a scoring server calls predict thousands of times a second.
        declared = inspect.signature(self._predict_fn).parameters.get("params")
        self._takes_params = (
            declared is not None and declared.kind is not inspect.Parameter.VAR_KEYWORD
        )
        self._input_schema = model_meta.get_input_schema()
        self._params_schema = model_meta.get_params_schema()

    @property
    def metadata(self) -> Model:
        """The model's MLmodel descriptor."""
        return self._model_meta

    @property
    def model_id(self) -> str | None:
        return self._model_meta.model_id

    @property
    def loader_module(self) -> str | None:
        conf = self._model_meta.flavors.get(FLAVOR_NAME) or {}
        return conf.get("loader_module")

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predictions for ``data`` (DataFrame, Series, ndarray, dict, list or scalar).

        Inputs are enforced against the signature (missing or mistyped columns raise
        InvalidParameter; safe upcasts happen), params validated and given their defaults.
        """
        if self._input_schema is not None:
            data = enforce_schema(data, self._input_schema)
        params = enforce_params(params, self._params_schema)
        if self._takes_params:
            return self._predict_fn(data, params=params)
        if params:
            _logger.warning("The model's predict takes no params; ignoring %s", list(params))
        return self._predict_fn(data)

    def unwrap_python_model(self) -> Any:
        """The user's PythonModel instance inside (custom pyfunc models only).

        Example::

            loaded = wayline.pyfunc.load_model(uri)
            my_model = loaded.unwrap_python_model()
        """
        python_model = getattr(self._model_impl, "python_model", None)
        if python_model is None:
            raise WaylineError(
                "unwrap_python_model is only available for custom PythonModel models."
            )
        return python_model

    def get_raw_model(self) -> Any:
        """The flavor's own object behind this pyfunc (MLflow's name): the fitted estimator,
        booster or module when the flavor's wrapper can hand it out, else the wrapper."""
        raw = getattr(self._model_impl, "get_raw_model", None)
        return raw() if callable(raw) else self._model_impl

    def __repr__(self) -> str:
        return f"PyFuncModel(loader_module={self.loader_module!r}, model_id={self.model_id!r})"


def download_model(
    model_uri: str, dst_path: str | None = None, tracking_uri: str | None = None
) -> str:
    """The local directory of the model at ``model_uri`` (downloaded unless already local)."""
    if os.path.isdir(model_uri):
        return model_uri
    from wayline.artifacts import download_artifacts
    from wayline.artifacts.uris import logged_model_of_run

    try:
        local = download_artifacts(
            artifact_uri=model_uri, dst_path=dst_path, tracking_uri=tracking_uri
        )
        if os.path.isfile(os.path.join(local, MLMODEL_FILE_NAME)):
            return local
    except (WaylineError, OSError):
        if not model_uri.startswith("runs:"):
            raise
    if model_uri.startswith("runs:") and (found := logged_model_of_run(model_uri, tracking_uri)):
        return download_artifacts(artifact_uri=found, dst_path=dst_path, tracking_uri=tracking_uri)
    raise NotFound(f'Could not find an "{MLMODEL_FILE_NAME}" configuration file at "{model_uri}"')


def load_model(
    model_uri: str,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: dict[str, Any] | None = None,
) -> PyFuncModel:
    """Load a model saved in the pyfunc format (by Wayline or MLflow).

    Example::

        model = wayline.pyfunc.load_model(f"runs:/{run_id}/model")
        model = wayline.pyfunc.load_model("models:/m-0123456789abcdef0123456789abcdef")
        model = wayline.pyfunc.load_model("/path/to/model")
    """
    local = download_model(os.fspath(model_uri), dst_path)
    meta = Model.load(local)
    conf = meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise NotFound(f'Model does not have the "{FLAVOR_NAME}" flavor')
    add_code_to_path(local, conf)
    data_path = os.path.join(local, conf["data"]) if conf.get("data") else local
    config = {**(conf.get("config") or {}), **(model_config or {})} or None
    loader = _loader(conf["loader_module"])
    impl = loader._load_pyfunc(data_path, config) if config else loader._load_pyfunc(data_path)
    return PyFuncModel(meta, impl, conf.get("predict_fn", "predict"))


__all__ = ["FLAVOR_NAME", "PyFuncModel", "download_model", "load_model"]
