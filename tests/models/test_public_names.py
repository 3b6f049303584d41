"""The public surface of the model packages changes only on purpose; importing them stays light."""

from __future__ import annotations

import subprocess
import sys

import wayline.models
import wayline.pyfunc
import wayline.types


def test_public_names() -> None:
    assert sorted(wayline.models.__all__) == [
        "Model",
        "ModelInfo",
        "ModelSignature",
        "infer_pip_requirements",
        "infer_signature",
        "set_model",
    ]
    assert sorted(wayline.pyfunc.__all__) == [
        "FLAVOR_NAME",
        "PyFuncModel",
        "PythonModel",
        "PythonModelContext",
        "load_model",
        "log_model",
        "save_model",
        "spark_udf",
    ]
    assert sorted(wayline.types.__all__) == [
        "AnyType",
        "Array",
        "ColSpec",
        "DataType",
        "Map",
        "Object",
        "ParamSchema",
        "ParamSpec",
        "Property",
        "Schema",
        "TensorSpec",
    ]


def test_imports_load_no_heavy_libraries() -> None:
    code = (
        "import sys, wayline.pyfunc, wayline.models, wayline.types; "
        "print(sorted(m for m in ('pandas', 'numpy', 'cloudpickle') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
