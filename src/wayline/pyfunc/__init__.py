"""Custom models behind one ``predict`` (``mlflow.pyfunc``): ``PythonModel``, ``save_model``,
``log_model``, ``load_model`` and ``PyFuncModel``.

Importing this package loads no pandas, numpy or cloudpickle; they load when a model is saved,
loaded or asked to predict.

Example::

    import wayline
    import wayline.pyfunc

    class Doubler(wayline.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input * 2

    with wayline.start_run():
        info = wayline.pyfunc.log_model(name="doubler", python_model=Doubler())
    wayline.pyfunc.load_model(info.model_uri).predict(df)
"""

from __future__ import annotations

from wayline.pyfunc.loading import FLAVOR_NAME, PyFuncModel, load_model
from wayline.pyfunc.python_model import PythonModel, PythonModelContext
from wayline.pyfunc.saving import log_model, save_model
from wayline.pyfunc.spark import spark_udf

__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
    "spark_udf",
]
