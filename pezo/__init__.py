"""pezo: FPGA generator and co-simulation toolkit for perturbation-efficient
zeroth-order (PeZO) training.

Subpackages: :mod:`pezo.ref` (numpy golden model, the single source of truth),
:mod:`pezo.hw` (Amaranth RTL), :mod:`pezo.sim` (cocotb testbenches),
:mod:`pezo.flow` (synthesis, place-and-route, power and reports).
"""

__version__ = "0.1.0"
