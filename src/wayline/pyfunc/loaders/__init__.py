"""pyfunc loaders that MLmodel files name in ``loader_module`` (``mlflow.pyfunc.loaders``)."""
