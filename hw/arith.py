"""Arithmetic wiring shared by the blocks: the one adder tree.

:func:`adder_tree` sums a list of Amaranth values by a balanced tree of two-input
adders, combinational (the scaler's shift-and-add multiply) or with one register level
per adder level (the Gaussian baselines' pipelined sums). Widths follow Amaranth's
arithmetic: each adder is one bit wider than its wider operand, signed when either is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from amaranth import Value

#: Makes the values of one tree level into registers: (values, level) -> registered values.
Register = Callable[[list[Value], int], list[Value]]


def adder_tree(terms: Sequence[Value], register: Register | None = None) -> Value:
    """The sum of ``terms`` (at least one) by a balanced tree of two-input adders.

    Level l adds neighbouring terms pairwise (terms 2i and 2i + 1; an odd last term
    passes through), so the tree has ceil(log2 len(terms)) levels. ``register(values,
    l)``, when given, returns level l's values as registers: latency ceil(log2
    len(terms)) clocks. Without it the tree is combinational (latency 0)."""
    if not terms:
        raise ValueError("an adder tree needs at least one term")
    level_values, level = list(terms), 0
    while len(level_values) > 1:
        sums = [level_values[i] + level_values[i + 1] for i in range(0, len(level_values) - 1, 2)]
        if len(level_values) % 2:
            sums.append(level_values[-1])
        level_values = register(sums, level) if register is not None else sums
        level += 1
    return level_values[0]
