from models._mlflow import mlflow_python

__all__ = ["mlflow_python"]
