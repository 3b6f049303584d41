"""Models the serving tests deploy: pyfunc PythonModels, saved to directories by conftest.

Saved by value (cloudpickle), so server subprocesses load them without importing this module.
"""

from __future__ import annotations

import time
from typing import Any

import wayline.pyfunc


class Classifier(wayline.pyfunc.PythonModel):
    """A scikit-learn estimator behind pyfunc (as the sklearn flavor serves one)."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return self.estimator.predict(model_input)


class Scaler(wayline.pyfunc.PythonModel):
    """Multiplies the ``x`` column by the ``mult`` param."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return (model_input["x"] * (params or {}).get("mult", 1.0)).tolist()


class Echo(wayline.pyfunc.PythonModel):
    """Returns what it was given, to check how each input format arrives and is encoded."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        import pandas as pd

        if isinstance(model_input, dict) and model_input.get("shape") == ["series"]:
            return pd.Series([1.5, 2.5], name="score")
        if isinstance(model_input, dict) and "sleep" in model_input:
            time.sleep(float(model_input["sleep"][0]))
        if isinstance(model_input, dict) and "fail" in model_input:
            raise ValueError("the model cannot take this input")
        return model_input


class Chat(wayline.pyfunc.PythonModel):
    """A unified-LLM-style model: answers with a dict."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return {"choices": [{"message": model_input["messages"][-1]}], "params": params}
