"""``log_figure``, ``log_image``, ``log_table`` and ``load_table``, fluent and Client, end to end
on a SQLite store (artifacts on disk) and on a live server (artifacts through its proxy).

What was stored is read back with ``wayline.artifacts``' functions, so the bytes went through
the same repository a user's download would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

import wayline
from wayline.artifacts import download_artifacts, list_artifacts, load_dict, load_image, load_text
from wayline.errors import InvalidParameter, NotFound


def _plotly_figure() -> Any:
    import plotly.graph_objects as go  # type: ignore[import-untyped]  # plotly ships no types

    return go.Figure(go.Scatter(x=[0, 1], y=[2, 3]))


def _line_figure() -> Figure:
    figure = Figure(figsize=(2, 1))
    figure.subplots().plot([0, 1], [2, 3])
    return figure


# ---------------------------------------------------------------------- figures
def test_matplotlib_and_plotly_figures(tracking: str, tmp_path: Path) -> None:
    with wayline.start_run() as run:
        wayline.log_figure(_line_figure(), "plots/line.png")
        wayline.log_figure(_line_figure(), "plots/line.svg", save_kwargs={"transparent": True})
        wayline.log_figure(_plotly_figure(), "plots/interactive.html")
    run_id = run.info.run_id
    wayline.Client().log_figure(run_id, _line_figure(), "by-client.pdf")

    png = Path(download_artifacts(f"runs:/{run_id}/plots/line.png", dst_path=tmp_path / "d"))
    assert png.read_bytes().startswith(b"\x89PNG")
    assert load_image(f"runs:/{run_id}/plots/line.png").size == (200, 100)  # 2x1 in at 100 dpi
    assert "<svg" in load_text(f"runs:/{run_id}/plots/line.svg")
    html = load_text(f"runs:/{run_id}/plots/interactive.html")
    assert "cdn.plot.ly" in html  # plotly.js from its CDN, as MLflow saves it
    pdf = download_artifacts(run_id=run_id, artifact_path="by-client.pdf", dst_path=tmp_path)
    assert Path(pdf).read_bytes().startswith(b"%PDF")


def test_what_is_no_figure_is_refused(tracking: str) -> None:
    with wayline.start_run() as run:
        with pytest.raises(InvalidParameter, match="matplotlib"):
            wayline.log_figure(object(), "x.png")
        with pytest.raises(InvalidParameter, match="extension"):
            wayline.log_figure(_plotly_figure(), "x.txt")
        with pytest.raises(InvalidParameter):
            wayline.log_figure(_line_figure(), "../escape.png")
    assert list_artifacts(run_id=run.info.run_id) == []


# ---------------------------------------------------------------------- images
def test_images_from_pil_and_numpy(tracking: str) -> None:
    images: dict[str, Any] = {
        "pil.png": Image.new("RGB", (40, 20), (255, 0, 0)),
        "grey.png": np.linspace(0.0, 1.0, 600).reshape(20, 30),
        "rgba.png": np.full((10, 12, 4), 200, dtype=np.uint8),
        "mask.png": np.eye(8, dtype=bool),
        "one-channel.png": np.full((5, 6, 1), 7, dtype=np.int64),
        "rgb.jpg": np.zeros((4, 4, 3), dtype=np.uint8),
    }
    with wayline.start_run() as run:
        for name, image in images.items():
            wayline.log_image(image, f"img/{name}")
    uri = f"runs:/{run.info.run_id}/img"

    pil = load_image(f"{uri}/pil.png")
    assert (pil.size, pil.mode, pil.getpixel((0, 0))) == ((40, 20), "RGB", (255, 0, 0))
    grey = load_image(f"{uri}/grey.png")
    assert (grey.size, grey.mode) == ((30, 20), "L")
    assert (grey.getpixel((0, 0)), grey.getpixel((29, 19))) == (0, 255)  # floats scaled
    rgba = load_image(f"{uri}/rgba.png")
    assert (rgba.mode, rgba.getpixel((0, 0))) == ("RGBA", (200, 200, 200, 200))
    mask = load_image(f"{uri}/mask.png")
    assert (mask.getpixel((0, 0)), mask.getpixel((1, 0))) == (255, 0)
    assert load_image(f"{uri}/one-channel.png").getpixel((0, 0)) == 7
    assert load_image(f"{uri}/rgb.jpg").format == "JPEG"


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((2, 2, 2), dtype=np.uint8), "channel"),
        (np.full((2, 2), 300), "range"),
        (np.full((2, 2), -1), "range"),
        (np.zeros(4), "2D or 3D"),
        (np.zeros((2, 2), dtype=complex), "data type"),
        ("not an image", "Unsupported image"),
    ],
)
def test_unusable_images_are_refused(image: Any, message: str, tmp_path: Path) -> None:
    client = wayline.Client(f"sqlite:///{tmp_path / 'db.sqlite'}")
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidParameter, match=message):
        client.log_image(run_id, image, "x.png")


def test_floats_out_of_range_are_rescaled_with_a_warning(tracking: str) -> None:
    with wayline.start_run() as run, pytest.warns(UserWarning, match="Rescaling"):
        wayline.log_image(np.array([[-1.0, 3.0]]), "scaled.png")
    scaled = load_image(f"runs:/{run.info.run_id}/scaled.png")
    assert (scaled.getpixel((0, 0)), scaled.getpixel((1, 0))) == (0, 255)


STEP_IMAGE = re.compile(
    r"images/val~noise\+step\+(\d+)\+timestamp\+(\d+)\+[0-9a-f-]{36}(\.png|\+compressed\.webp)"
)


def test_step_indexed_images_follow_mlflows_layout(tracking: str) -> None:
    with wayline.start_run() as run:
        for step in range(2):
            noise = np.random.default_rng(step).random((300, 600))
            wayline.log_image(noise, key="val/noise", step=step, timestamp=1_700_000_000_000)
    run_id = run.info.run_id
    files = [f.path for f in list_artifacts(run_id=run_id, artifact_path="images")]
    matches = [STEP_IMAGE.fullmatch(path) for path in files]
    assert all(matches), files
    found = sorted((m.group(1), m.group(2), m.group(3)) for m in matches if m)
    assert found == [
        ("0", "1700000000000", "+compressed.webp"),
        ("0", "1700000000000", ".png"),
        ("1", "1700000000000", "+compressed.webp"),
        ("1", "1700000000000", ".png"),
    ]
    full = next(p for p in files if p.endswith(".png"))
    preview = next(p for p in files if p.endswith(".webp"))
    assert load_image(f"runs:/{run_id}/{full}").size == (600, 300)
    assert load_image(f"runs:/{run_id}/{preview}").size == (256, 128)
    assert wayline.get_run(run_id).data.tags["mlflow.loggedImages"] == "True"


def test_step_images_default_to_step_zero_and_now(tracking: str) -> None:
    client = wayline.Client()
    with wayline.start_run() as run:
        client.log_image(run.info.run_id, Image.new("L", (8, 8)), key="k")
    names = [f.path for f in list_artifacts(run_id=run.info.run_id, artifact_path="images")]
    assert len(names) == 2
    assert all(name.startswith("images/k+step+0+timestamp+") for name in names)


def test_image_arguments_are_checked(tracking: str) -> None:
    image = Image.new("RGB", (4, 4))
    with wayline.start_run():
        with pytest.raises(InvalidParameter, match="conjunction"):
            wayline.log_image(image, "a.png", key="k")
        with pytest.raises(InvalidParameter, match="exactly one"):
            wayline.log_image(image)
        with pytest.raises(InvalidParameter, match="invalid characters"):
            wayline.log_image(image, key="a*b")


# ---------------------------------------------------------------------- tables
def test_tables_append_and_are_listed_in_the_run_tag(tracking: str) -> None:
    with wayline.start_run() as run:
        wayline.log_table({"q": ["a", "b"], "score": [0.1, 0.2]}, "eval/qa.json")
        wayline.log_table(pd.DataFrame({"q": ["c"], "score": [0.3]}), "eval/qa.json")
        wayline.log_table({"zip": ["02108"]}, "zips.json")
        wayline.log_table({"zip": ["02109"]}, "zips.json")
        wayline.log_table({"a": 1, "b": "x"}, "one-row.json")
    run_id = run.info.run_id
    assert load_dict(f"runs:/{run_id}/eval/qa.json") == {
        "columns": ["q", "score"],
        "data": [["a", 0.1], ["b", 0.2], ["c", 0.3]],
    }
    # Appending keeps stored values as they were: "02108" stays a string.
    assert load_dict(f"runs:/{run_id}/zips.json")["data"] == [["02108"], ["02109"]]
    assert load_dict(f"runs:/{run_id}/one-row.json")["data"] == [[1, "x"]]
    assert json.loads(wayline.get_run(run_id).data.tags["mlflow.loggedArtifacts"]) == [
        {"path": "eval/qa.json", "type": "table"},
        {"path": "zips.json", "type": "table"},
        {"path": "one-row.json", "type": "table"},
    ]


def test_load_table_joins_the_runs_that_logged_it(tracking: str) -> None:
    with wayline.start_run() as first:
        wayline.log_table({"q": ["a", "b"], "score": [1, 2]}, "eval.json")
    with wayline.start_run() as second:
        wayline.log_table({"q": ["c"], "score": [3]}, "eval.json")
    with wayline.start_run():
        wayline.log_table({"q": ["other"]}, "other.json")
    ids = {first.info.run_id, second.info.run_id}

    frame = wayline.load_table("eval.json", extra_columns=["run_id"])
    assert sorted(frame["q"]) == ["a", "b", "c"]
    assert set(frame["run_id"]) == ids
    assert frame.loc[frame["q"] == "c", "run_id"].tolist() == [second.info.run_id]

    only_first = wayline.load_table("eval.json", run_ids=[first.info.run_id])
    assert only_first.to_dict("list") == {"q": ["a", "b"], "score": [1, 2]}

    with pytest.raises(NotFound):
        wayline.load_table("never-logged.json")
    with pytest.raises(InvalidParameter, match="extra column"):
        wayline.load_table("eval.json", extra_columns=["no-such-column"])


def test_an_extra_column_the_table_has_gets_an_underscore(tracking: str) -> None:
    client = wayline.Client()
    with wayline.start_run() as run:
        client.log_table(run.info.run_id, {"status": ["mine"]}, "status.json")
    frame = client.load_table(
        run.info.experiment_id, "status.json", run_ids=[run.info.run_id], extra_columns=["status"]
    )
    assert frame.to_dict("list") == {"status": ["mine"], "status_": ["FINISHED"]}


def test_table_arguments_are_checked(tracking: str) -> None:
    with wayline.start_run():
        with pytest.raises(InvalidParameter, match="extension"):
            wayline.log_table({"a": [1]}, "table.csv")
        with pytest.raises(InvalidParameter, match="forbidden character"):
            wayline.log_table({"a": [1]}, "a:b.json")
        with pytest.raises(InvalidParameter, match="DataFrame or a dictionary"):
            wayline.log_table([1, 2], "t.json")
        with pytest.raises(InvalidParameter):
            wayline.log_table({"a": [1]}, "../t.json")


def test_a_column_of_images_is_stored_as_image_files(tracking: str) -> None:
    images = pd.Series([Image.new("RGB", (300, 150), "red"), Image.new("RGB", (10, 20))])
    with wayline.start_run() as run:
        wayline.log_table(pd.DataFrame({"prompt": ["a", "b"], "image": images}), "gen/t.json")
        with pytest.raises(InvalidParameter, match="mix of images"):
            wayline.log_table({"x": [Image.new("L", (2, 2)), "text"]}, "mixed.json")
    uri = f"runs:/{run.info.run_id}"
    rows = load_dict(f"{uri}/gen/t.json")["data"]
    assert [row[0] for row in rows] == ["a", "b"]
    first = rows[0][1]
    assert first["type"] == "image"
    assert re.fullmatch(r"table_images/gen/t/[0-9a-f-]{36}\.png", first["filepath"])
    assert first["compressed_filepath"] == first["filepath"].replace(".png", ".webp")
    assert load_image(f"{uri}/{first['filepath']}").size == (300, 150)
    assert load_image(f"{uri}/{first['compressed_filepath']}").size == (256, 128)
    assert len(list_artifacts(f"{uri}/table_images/gen/t")) == 4
    # The refused table stored nothing.
    assert [f.path for f in list_artifacts(f"{uri}/table_images")] == ["table_images/gen"]
    assert [f.path for f in list_artifacts(uri)] == ["gen", "table_images"]
