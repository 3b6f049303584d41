"""``PythonModel`` and ``PythonModelContext``: a custom model's base class and load context.

This module imports nothing from Wayline on purpose: when a model is saved, cloudpickle stores
these classes by value, so ``python_model.pkl`` loads in MLflow (whose loader reads the same
attributes: ``load_context``, ``predict``, ``predict_type_hints``) without Wayline installed.
"""

from __future__ import annotations

import inspect
from typing import Any


class PythonModelContext:
    """What ``load_context`` receives: ``artifacts`` (name -> local path) and ``model_config``.

    Example::

        def load_context(self, context):
            with open(context.artifacts["vocab"]) as f:
                self.vocab = f.read().split()
    """

    def __init__(self, artifacts: dict[str, str], model_config: dict[str, Any] | None) -> None:
        self._artifacts = artifacts
        self._model_config = model_config

    @property
    def artifacts(self) -> dict[str, str]:
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any] | None:
        return self._model_config


class _TypeHints:
    # MLflow's loader reads `.input` to convert inputs for list[str]-style hints; we record none.
    def __init__(self, input_: Any = None, output: Any = None) -> None:
        self.input = input_
        self.output = output


class PythonModel:
    """Base class of custom models: override ``predict`` (and ``load_context`` if needed).

    ``predict`` takes ``(context, model_input, params=None)`` or, as MLflow 3 allows, just
    ``(model_input, params=None)``.

    Example::

        import wayline.pyfunc

        class AddN(wayline.pyfunc.PythonModel):
            def __init__(self, n):
                self.n = n

            def predict(self, context, model_input, params=None):
                return model_input.apply(lambda column: column + self.n)

        wayline.pyfunc.save_model("add_n", python_model=AddN(5))
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Load what the model needs (artifacts, config) when it is loaded; a no-op by default."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        """Predictions for ``model_input``; every subclass defines it."""
        raise NotImplementedError("A PythonModel subclass must define predict().")

    @property
    def predict_type_hints(self) -> _TypeHints:
        return _TypeHints()


class FunctionModel(PythonModel):
    """A plain function given as the model: ``predict(model_input, params)`` calls it."""

    def __init__(self, func: Any) -> None:
        self.func = func

    # MLflow 3's context-free form of predict.
    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:  # type: ignore[override]
        return self.func(model_input)


def takes_context(predict: Any) -> bool:
    """Whether a ``predict`` method takes a context first (MLflow's rule: a parameter named
    ``context``, or two parameters besides ``params``)."""
    parameters = inspect.signature(predict).parameters
    return (
        "context" in parameters or len([p for p in parameters if p not in ("self", "params")]) == 2
    )


__all__ = ["FunctionModel", "PythonModel", "PythonModelContext", "takes_context"]
