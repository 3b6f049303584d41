"""Random, memorable run names such as ``brave-otter-417``."""

from __future__ import annotations

import random

_ADJECTIVES = """
    agile amber ample ancient arctic bold brave bright brisk calm clever cosmic crisp curious
    dapper daring dashing deft eager earnest electric elegant fearless fierce fleet fluent gentle
    gilded glowing golden graceful hardy humble jolly keen kind lively lucid lucky mellow merry
    mighty nimble noble patient placid polished proud quick quiet radiant rapid resolute rustic
    serene sharp shiny silent silver sleek smooth snappy spry steady stellar sturdy sunny swift
    tidy tranquil trusty valiant vivid wandering warm wise witty zesty
""".split()  # noqa: SIM905 (a word block reads better than 78 quoted items)

_ANIMALS = """
    albatross alpaca antelope badger beaver bison bobcat buffalo camel caribou cheetah condor
    cougar coyote crane dingo dolphin eagle egret elk falcon ferret finch flamingo fox gazelle
    gecko gibbon heron hippo ibex ibis iguana jackal jaguar kestrel koala lemur leopard lynx macaw
    marmot marten mink moose narwhal newt ocelot orca osprey otter owl panda panther pelican
    puffin quail raven seal shrike sparrow stork swan tapir tern tiger toucan trout turtle walrus
    weasel whale wolf wombat wren yak zebra
""".split()  # noqa: SIM905

# Names only need to look distinct, not be unpredictable; a private generator keeps user code
# that seeds the global `random` module from making every run's name the same.
_rng = random.Random()


def generate_run_name() -> str:
    """A name of the form ``adjective-animal-NNN`` (NNN from 0 to 999)."""
    return f"{_rng.choice(_ADJECTIVES)}-{_rng.choice(_ANIMALS)}-{_rng.randint(0, 999)}"


__all__ = ["generate_run_name"]
