"""Datasets used by runs: one row per (name, digest) per experiment, linked to runs with tags.
(Logged models used by runs are linked here too; ``logged_models`` holds that part.)"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, select

from wayline.entities import Dataset, DatasetInput, DatasetSummary, InputTag, ModelInput
from wayline.errors import InvalidParameter
from wayline.store.sql.base import SqlBase, chunks, insert_ignore, parse_experiment_id
from wayline.store.sql.logged_models import write_model_inputs
from wayline.store.sql.tables import datasets, input_tags, run_inputs
from wayline.store.tracking import SEARCH_DATASETS_MAX_RESULTS
from wayline.validation import validate_dataset_inputs

_DATASET_COLUMNS = (
    datasets.c.dataset_id,
    datasets.c.name,
    datasets.c.digest,
    datasets.c.source_type,
    datasets.c.source,
    datasets.c.schema,
    datasets.c.profile,
)


def load_inputs(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[DatasetInput]]:
    """Each run's dataset inputs (ordered by dataset name, digest) with their tags."""
    links: list[tuple[str, str, Dataset]] = []
    for chunk in chunks(run_ids):
        query = (
            select(run_inputs.c.run_id, *_DATASET_COLUMNS)
            .join(datasets, datasets.c.dataset_id == run_inputs.c.dataset_id)
            .where(run_inputs.c.run_id.in_(chunk))
            .order_by(run_inputs.c.run_id, datasets.c.name, datasets.c.digest)
        )
        for row in conn.execute(query).all():
            dataset = Dataset(
                row.name, row.digest, row.source_type, row.source, row.schema, row.profile
            )
            links.append((row.run_id, row.dataset_id, dataset))
    if not links:
        return {}  # the usual case in a search: one query, no tag lookup
    tags_by_link: dict[tuple[str, str], list[InputTag]] = {}
    linked_runs = list(dict.fromkeys(run_id for run_id, _, _ in links))
    for chunk in chunks(linked_runs):
        query = (
            select(
                input_tags.c.run_id, input_tags.c.dataset_id, input_tags.c.key, input_tags.c.value
            )
            .where(input_tags.c.run_id.in_(chunk))
            .order_by(input_tags.c.run_id, input_tags.c.dataset_id, input_tags.c.key)
        )
        for tag_row in conn.execute(query).all():
            tags_by_link.setdefault((tag_row.run_id, tag_row.dataset_id), []).append(
                InputTag(tag_row.key, tag_row.value)
            )
    found: dict[str, list[DatasetInput]] = {}
    for run_id, dataset_id, dataset in links:
        tags = tags_by_link.get((run_id, dataset_id), [])
        found.setdefault(run_id, []).append(DatasetInput(dataset, tags))
    return found


CONTEXT_TAG = "mlflow.data.context"


class InputsMixin(SqlBase):
    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        ids = [parse_experiment_id(experiment_id) for experiment_id in experiment_ids]
        context = input_tags.alias("context")
        query = (
            select(datasets.c.experiment_id, datasets.c.name, datasets.c.digest, context.c.value)
            .distinct()
            .join(run_inputs, run_inputs.c.dataset_id == datasets.c.dataset_id)
            .outerjoin(
                context,
                (context.c.run_id == run_inputs.c.run_id)
                & (context.c.dataset_id == run_inputs.c.dataset_id)
                & (context.c.key == CONTEXT_TAG),
            )
            .where(datasets.c.experiment_id.in_(ids))
            .order_by(datasets.c.experiment_id, datasets.c.name, datasets.c.digest, context.c.value)
            .limit(SEARCH_DATASETS_MAX_RESULTS)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [DatasetSummary(str(row[0]), row[1], row[2], row[3]) for row in rows]

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        validate_dataset_inputs(datasets)
        with self._write() as conn:
            experiment_id = self._active_run(conn, run_id)
            if models:
                write_model_inputs(conn, self.dialect, run_id, models)
            if not datasets:
                return
            # The first occurrence of a (name, digest) in the call is the one recorded.
            wanted: dict[tuple[str, str], DatasetInput] = {}
            for item in datasets:
                wanted.setdefault((item.dataset.name, item.dataset.digest), item)
            ids = self._dataset_ids(conn, experiment_id, wanted)
            linked = set(
                conn.execute(
                    select(run_inputs.c.dataset_id).where(
                        run_inputs.c.run_id == run_id,
                        run_inputs.c.dataset_id.in_(list(ids.values())),
                    )
                ).scalars()
            )
            new_links = [(ids[key], item) for key, item in wanted.items() if ids[key] not in linked]
            if not new_links:
                return  # logging the same inputs again changes nothing, tags included
            conn.execute(
                insert_ignore(self.dialect, run_inputs),
                [{"run_id": run_id, "dataset_id": dataset_id} for dataset_id, _ in new_links],
            )
            tag_rows = [
                {"run_id": run_id, "dataset_id": dataset_id, "key": tag.key, "value": tag.value}
                for dataset_id, item in new_links
                for tag in item.tags
            ]
            if tag_rows:
                conn.execute(insert_ignore(self.dialect, input_tags), tag_rows)

    def _dataset_ids(
        self,
        conn: Connection,
        experiment_id: int,
        wanted: dict[tuple[str, str], DatasetInput],
    ) -> dict[tuple[str, str], str]:
        """Ids of the experiment's datasets with these (name, digest), creating missing ones."""
        names = sorted({name for name, _ in wanted})
        query = select(datasets.c.dataset_id, datasets.c.name, datasets.c.digest).where(
            datasets.c.experiment_id == experiment_id, datasets.c.name.in_(names)
        )

        def existing() -> dict[tuple[str, str], str]:
            rows = conn.execute(query)
            return {(name, digest): did for did, name, digest in rows if (name, digest) in wanted}

        ids = existing()
        missing = [key for key in wanted if key not in ids]
        if missing:
            rows = []
            for key in missing:
                dataset = wanted[key].dataset
                rows.append(
                    {
                        "dataset_id": uuid.uuid4().hex,
                        "experiment_id": experiment_id,
                        "name": dataset.name,
                        "digest": dataset.digest,
                        "source_type": dataset.source_type,
                        "source": dataset.source,
                        "schema": dataset.schema,
                        "profile": dataset.profile,
                    }
                )
            # Ignore-on-conflict, then read back: a concurrent writer may have created one.
            conn.execute(insert_ignore(self.dialect, datasets), rows)
            ids = existing()
            lost = [key for key in wanted if key not in ids]
            if lost:
                # MySQL's PAD SPACE collation makes names differing in trailing spaces collide.
                raise InvalidParameter(
                    f"Dataset (name, digest) {lost[0]} collides with an existing dataset of the"
                    " experiment whose name differs only in trailing spaces; rename it."
                )
        return ids
