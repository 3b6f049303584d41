"""Images for ``log_image``: numpy arrays and PIL images as PIL images, and MLflow's names for
step-indexed images.

Pillow is imported only here, when an image is logged. Arrays follow MLflow's rules: bool,
integer (0..255) or float (0..1) values; shapes HxW, HxWx1 (grey), HxWx3 (RGB), HxWx4 (RGBA).
Floats outside 0..1 are min-max scaled with a warning; integers outside 0..255 are refused.
"""

from __future__ import annotations

import re
import sys
import uuid
import warnings
from typing import Any

from wayline.errors import InvalidParameter, WaylineError

# The tag MLflow sets on a run with step-indexed images; its UI shows an image panel for it.
LOGGED_IMAGES_TAG = "mlflow.loggedImages"
IMAGES_DIR = "images"
# Longest side of the ".webp" preview stored beside each step-indexed image.
COMPRESSED_IMAGE_SIZE = 256
_KEY = re.compile(r"[a-zA-Z0-9_\-./ ]+")


def _pil_image_module() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise WaylineError("Logging images needs Pillow: pip install pillow") from None
    return Image


def _normalised(array: Any) -> Any:
    """A uint8 array for an array of bools, integers in 0..255 or floats in 0..1."""
    import numpy as np

    if array.dtype.kind in "iu":
        smallest, largest = int(array.min()), int(array.max())
        if smallest < 0 or largest > 255:
            raise InvalidParameter(
                "Integer pixel values out of acceptable range [0, 255]. "
                f"Found minimum value {smallest} and maximum value {largest}."
            )
        return array.astype(np.uint8)
    if array.dtype.kind == "f":
        low, high = float(array.min()), float(array.max())
        if low < 0 or high > 1:
            warnings.warn(
                "Float pixel values out of acceptable range [0.0, 1.0]. "
                f"Found minimum value {low} and maximum value {high}. "
                "Rescaling values to [0.0, 1.0] with min/max scaler.",
                stacklevel=2,
            )
            span = high - low
            array = (array - low) / span if span else np.zeros_like(array)
    return (array * 255).astype(np.uint8)


def array_to_image(array: Any) -> Any:
    """A PIL image of a numpy array (see the module docstring for what arrays are accepted).

    Example::

        image = array_to_image(np.zeros((32, 32, 3), dtype=np.uint8))
    """
    if array.dtype.kind not in "biuf":
        raise InvalidParameter(
            f"Invalid array data type: '{array.dtype}'. Must be one of "
            "['bool', 'signed integer', 'unsigned integer', 'floating']"
        )
    if array.ndim not in (2, 3):
        raise InvalidParameter(
            f"`image` must be a 2D or 3D array but got image shape: {array.shape}"
        )
    if array.ndim == 3:
        if array.shape[2] not in (1, 3, 4):
            raise InvalidParameter(
                f"Invalid channel length: {array.shape[2]}. Must be one of [1, 3, 4]"
            )
        if array.shape[2] == 1:  # PIL takes grey images as 2-D arrays only
            array = array[:, :, 0]
    return _pil_image_module().fromarray(_normalised(array))


def as_pil_image(image: Any) -> Any:
    """``image`` (a numpy array, a PIL image, or an object with ``to_pil()`` such as
    ``mlflow.Image``) as a PIL image.

    Example::

        pil = as_pil_image(np.random.rand(8, 8))  # floats in [0, 1] become grey levels
    """
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(image, numpy.ndarray):
        return array_to_image(image)
    to_pil = getattr(image, "to_pil", None)
    if callable(to_pil):
        return to_pil()
    pil = _pil_image_module()
    if isinstance(image, pil.Image):
        return image
    raise InvalidParameter(
        f"Unsupported image object type: {type(image)}. `image` must be one of "
        "numpy.ndarray, PIL.Image.Image and mlflow.Image."
    )


def compressed(image: Any) -> Any:
    """A copy of ``image`` scaled to fit a square of ``COMPRESSED_IMAGE_SIZE``, as MLflow's UI
    previews it."""
    width, height = image.size
    if width > height:
        size = (COMPRESSED_IMAGE_SIZE, int(height * COMPRESSED_IMAGE_SIZE / width))
    else:
        size = (int(width * COMPRESSED_IMAGE_SIZE / height), COMPRESSED_IMAGE_SIZE)
    return image.resize(size)


def step_image_files(key: str, step: int, timestamp: int) -> tuple[str, str]:
    """``(full image, compressed preview)`` artifact files of a step-indexed image, named as
    MLflow 3.18 names them: ``images/<key>+step+<step>+timestamp+<ms>+<uuid>.png`` and the same
    name with ``+compressed.webp``; ``/`` in the key becomes ``~``.

    Example::

        step_image_files("val/dogs", 3, 1700000000000)
        # ("images/val~dogs+step+3+timestamp+1700000000000+<uuid>.png", "...+compressed.webp")
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidParameter(
            "The `key` parameter may only contain alphanumerics, underscores (_), dashes (-), "
            f"periods (.), spaces ( ), and slashes (/). The provided key `{key}` contains "
            "invalid characters."
        )
    stem = f"{IMAGES_DIR}/{key.replace('/', '~')}+step+{step}+timestamp+{timestamp}+{uuid.uuid4()}"
    return f"{stem}.png", f"{stem}+compressed.webp"


__all__ = [
    "COMPRESSED_IMAGE_SIZE",
    "IMAGES_DIR",
    "LOGGED_IMAGES_TAG",
    "array_to_image",
    "as_pil_image",
    "compressed",
    "step_image_files",
]
