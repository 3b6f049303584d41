"""A first tracked experiment: no server, no configuration.

Run it, then look at what it recorded:

    python examples/quickstart.py
    wayline experiments search
    wayline runs list --experiment-id <the id of "quickstart">
"""

import math

import wayline as mlflow  # the same API as MLflow's fluent API

mlflow.set_experiment("quickstart")

for lr in (0.01, 0.1):
    with mlflow.start_run(run_name=f"lr-{lr}"):
        mlflow.log_params({"lr": lr, "optimizer": "sgd"})
        for step in range(100):
            mlflow.log_metric("loss", math.exp(-lr * step), step=step)
        mlflow.set_tag("team", "demo")

runs = mlflow.search_runs(
    experiment_names=["quickstart"],
    filter_string="params.optimizer = 'sgd'",
    order_by=["metrics.loss ASC"],
)
print(runs[["run_id", "tags.mlflow.runName", "params.lr", "metrics.loss"]].to_string(index=False))
