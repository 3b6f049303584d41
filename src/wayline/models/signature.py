"""Model signatures (``mlflow.models.signature``): the inputs, outputs and params a model takes.

In an MLmodel file a signature is ``{inputs: <json>, outputs: <json>, params: <json or null>}``,
each value a JSON string in MLflow's encoding (``wayline.types``).
"""

from __future__ import annotations

import logging
from typing import Any

from wayline.errors import InvalidParameter
from wayline.types.params import ParamSchema
from wayline.types.schema import AnyType, ColSpec, Schema

_logger = logging.getLogger(__name__)


class ModelSignature:
    """What a model takes and gives: input and output ``Schema`` and a ``ParamSchema``.

    Example::

        from wayline.models import ModelSignature
        from wayline.types import ColSpec, Schema

        signature = ModelSignature(Schema([ColSpec("double", "x")]), Schema([ColSpec("double")]))
        ModelSignature.from_dict(signature.to_dict()) == signature  # True
    """

    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ) -> None:
        for name, value, cls in (
            ("inputs", inputs, Schema),
            ("outputs", outputs, Schema),
            ("params", params, ParamSchema),
        ):
            if value is not None and not isinstance(value, cls):
                raise TypeError(
                    f"{name} must be None or a {cls.__name__}, got {type(value).__name__}"
                )
        if inputs is None and outputs is None and params is None:
            raise ValueError("At least one of inputs, outputs or params must be provided")
        self.inputs = inputs
        self.outputs = outputs
        self.params = params
        # MLmodel's is_signature_from_type_hint / type_hint_from_example, kept for round trips.
        self._is_signature_from_type_hint = False
        self._is_type_hint_from_example = False

    def to_dict(self) -> dict[str, str | None]:
        """The MLmodel form: each part a JSON string (or None)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": self.params.to_json() if self.params else None,
        }

    @classmethod
    def from_dict(cls, signature_dict: dict[str, Any]) -> ModelSignature:
        """The signature an MLmodel ``signature`` mapping describes."""
        inputs = Schema.from_json(x) if (x := signature_dict.get("inputs")) else None
        outputs = Schema.from_json(x) if (x := signature_dict.get("outputs")) else None
        params = ParamSchema.from_json(x) if (x := signature_dict.get("params")) else None
        return cls(inputs, outputs, params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and (self.inputs, self.outputs, self.params) == (
            other.inputs,
            other.outputs,
            other.params,
        )

    def __hash__(self) -> int:
        return hash((self.inputs, self.outputs, self.params))

    def __repr__(self) -> str:
        return (
            f"inputs: \n  {self.inputs!r}\noutputs: \n  {self.outputs!r}\n"
            f"params: \n  {self.params!r}\n"
        )


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: dict[str, Any] | None = None
) -> ModelSignature:
    """Infer a signature from example input, output and inference params.

    Inputs and outputs may be pandas DataFrames or Series, numpy arrays, dicts of arrays, dicts
    or lists of dicts of JSON values, lists of scalars or a scalar. As MLflow does, data whose
    schema cannot be inferred gets ``Schema([ColSpec(AnyType())])`` with a warning; bad params
    raise InvalidParameter.

    Example::

        import pandas as pd
        from wayline.models import infer_signature

        X = pd.DataFrame({"x1": [1.0, 2.0], "x2": ["a", "b"]})
        signature = infer_signature(X, X["x1"] * 2, params={"mult": 2.0})
    """
    from wayline.types.infer import infer_param_schema, infer_schema

    schemas: dict[str, Schema | None] = {"inputs": None, "outputs": None}
    for key, data in (("inputs", model_input), ("outputs", model_output)):
        if data is None:
            continue
        try:
            schemas[key] = infer_schema(data)
        except Exception:  # MLflow falls back to AnyType for any data it cannot read
            _logger.warning(
                "Failed to infer schema for %s; setting it to Schema([ColSpec(AnyType())]).",
                key,
                exc_info=_logger.isEnabledFor(logging.DEBUG),
            )
            schemas[key] = Schema([ColSpec(AnyType())])
    param_schema = infer_param_schema(params) if params else None
    if params is not None and not isinstance(params, dict):
        raise InvalidParameter(f"Expected parameters to be dict, got {type(params).__name__}")
    return ModelSignature(schemas["inputs"], schemas["outputs"], param_schema)


__all__ = ["ModelSignature", "infer_signature"]
