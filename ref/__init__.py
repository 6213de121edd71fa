"""Golden model: bit-exact numpy models of every hardware block, the ZO optimizer and
the training experiments. The single source of truth for behaviour."""

from pezo.ref.config import PRESETS, PezoConfig, preset

__all__ = ["PRESETS", "PezoConfig", "preset"]
