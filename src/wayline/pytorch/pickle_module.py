"""cloudpickle shaped as ``torch.save``'s ``pickle_module`` (MLflow's
``mlflow.pytorch.pickle_module``): classes defined in ``__main__`` are saved by value.

A model's ``data/pickle_module_info.txt`` names ``mlflow.pytorch.pickle_module`` (so MLflow
loads Wayline's models); Wayline reads that name as this module.
"""

from __future__ import annotations

from pickle import Unpickler

from cloudpickle import CloudPickler as Pickler  # type: ignore[import-untyped]
from cloudpickle import dump, dumps, load, loads

__all__ = ["Pickler", "Unpickler", "dump", "dumps", "load", "loads"]
