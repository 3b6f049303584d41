"""Stores: the tracking interface and its backends, chosen by URI scheme in ``resolve``."""
