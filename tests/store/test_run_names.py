from __future__ import annotations

import random
import re

from wayline.store.run_names import generate_run_name


def test_names_look_like_adjective_animal_number() -> None:
    for _ in range(200):
        assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", generate_run_name())


def test_names_vary_even_when_user_code_seeds_random() -> None:
    names = set()
    for _ in range(20):
        random.seed(0)
        names.add(generate_run_name())
    assert len(names) > 1
