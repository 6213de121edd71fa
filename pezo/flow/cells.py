"""Resource counting: the cell types of each FPGA family mapped to resource classes.

Yosys' ``stat -json`` lists, per module, ``num_cells_by_type``; :func:`count_resources`
turns that into the numbers of the report. Classes and the family cell types in each:

========  =======================================  ====================================
class     meaning                                   cell types (family)
========  =======================================  ====================================
lut       logic LUTs                                LUT1..LUT6 (xilinx7), SB_LUT4 (ice40),
                                                    LUT4 (ecp5), LUT1..LUT4 (gowin)
lutram    LUTs used as memory or shift register,    RAM32M/RAM64M/RAM*X1*, SRL16E,
          in LUT equivalents (cell count times     SRLC32E (xilinx7); TRELLIS_DPR16X4
          the LUTs one cell occupies, see           (ecp5); RAM16S*/RAM16SDP* (gowin);
          ``LUTRAM_LUTS``)                          none on ice40
ff        flip-flops                                FD* (xilinx7), SB_DFF* (ice40),
                                                    TRELLIS_FF (ecp5), DFF* (gowin)
carry     carry-chain cells                         CARRY4/CARRY8, SB_CARRY, CCU2C, ALU
mux       wide-function muxes                       MUXF7/MUXF8, PFUMX/L6MUX21, MUX2_LUT*
bram      block RAM primitives                      RAMB18E1/RAMB36E1, SB_RAM40_4K*,
                                                    SB_SPRAM256KA, DP16KD/PDPW16KD,
                                                    SP/SDP/DP*/pROM* (gowin)
dsp       multiplier / DSP blocks                   DSP48E1, SB_MAC16, MULT18X18D,
                                                    ALU54B, MULT*/MULTALU* (gowin)
io        I/O and clock buffers (not counted)       IBUF/OBUF/BUFG, SB_IO, ...
========  =======================================  ====================================

``bram`` counts blocks of the family's basic size (18 Kb on xilinx7, ecp5 and gowin,
4 Kb on ice40): a xilinx7 RAMB36 is two RAMB18s (``BRAM_UNITS``), so designs that Yosys
maps to different block sizes compare fairly.

``luts`` in every report is ``lut + lutram``: the LUTs of the fabric the design
occupies (Vivado's "Slice LUTs" likewise includes LUTs used as memory), so a design
that keeps its state in LUT-RAM is charged for it. Anything unrecognised lands in
``other`` and is listed by name, so a new cell type is visible rather than lost.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from pezo.errors import ToolError

FAMILIES = ("xilinx7", "ice40", "ecp5", "gowin")

#: Ordered (regex, class) rules per family; the first match wins.
_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "xilinx7": (
        (r"LUT[1-6]$", "lut"),
        (r"(RAM\d+M\d*|RAM\d+X\d+[SD]|SRL16E|SRLC16E|SRLC32E)$", "lutram"),
        (r"(FD[RSCPE]*|FDRE_1|FDSE_1|FDCE_1|FDPE_1|LDCE|LDPE)$", "ff"),
        (r"CARRY[48]$", "carry"),
        (r"MUXF[789]$", "mux"),
        (r"RAMB(18|36)E[12]$", "bram"),
        (r"DSP48E[12]?$", "dsp"),
        (r"(IBUF|OBUF|IOBUF|OBUFT|BUFG|BUFGCTRL|IBUFG)$", "io"),
        (r"(INV|BUF|VCC|GND)$", "wire"),
    ),
    "ice40": (
        (r"SB_LUT4$", "lut"),
        (r"SB_DFF\w*$", "ff"),
        (r"SB_CARRY$", "carry"),
        (r"(SB_RAM40_4K\w*|SB_SPRAM256KA)$", "bram"),
        (r"SB_MAC16$", "dsp"),
        (r"(SB_IO\w*|SB_GB\w*)$", "io"),
    ),
    "ecp5": (
        (r"LUT4$", "lut"),
        (r"TRELLIS_DPR16X4$", "lutram"),
        (r"TRELLIS_FF$", "ff"),
        (r"CCU2[CD]$", "carry"),
        (r"(PFUMX|L6MUX21)$", "mux"),
        (r"(DP16KD|PDPW16KD)$", "bram"),
        (r"(MULT18X18D|ALU54B|MULT9X9D|ALU24B)$", "dsp"),
        (r"(TRELLIS_IO|[IO]B|BB|DCCA)$", "io"),
    ),
    "gowin": (
        (r"LUT[1-4]$", "lut"),
        (r"RAM16S\w*$", "lutram"),
        (r"DFF\w*$", "ff"),
        (r"ALU$", "carry"),
        (r"MUX2_LUT[5-8]$", "mux"),
        (r"(SP|SPX9|SDP|SDPB|SDPX9B|DP|DPB|DPX9B|pROM|pROMX9)$", "bram"),
        (r"(MULT\w*|MULTALU\w*|MULTADDALU\w*|PADD\w*)$", "dsp"),
        (r"(IBUF|OBUF|IOBUF|TBUF|GSR|VCC|GND)$", "io"),
    ),
}

#: LUTs one LUT-RAM cell occupies (LUT equivalents), by cell-type prefix.
LUTRAM_LUTS: dict[str, int] = {
    "RAM32M16": 8, "RAM64M8": 8, "RAM32M": 4, "RAM64M": 4,
    "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM32X1S": 1, "RAM64X1S": 1,
    "RAM128X1S": 2, "RAM256X1S": 4, "RAM512X1S": 8, "RAM32X2S": 2,
    "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1,
    "TRELLIS_DPR16X4": 4,
    "RAM16SDP4": 4, "RAM16SDP2": 2, "RAM16SDP1": 1, "RAM16S4": 4, "RAM16S2": 2, "RAM16S1": 1,
}

#: Basic block RAMs one cell occupies, by cell type (1 if not listed).
BRAM_UNITS: dict[str, int] = {"RAMB36E1": 2, "RAMB36E2": 2}

CLASSES = ("lut", "lutram", "ff", "carry", "mux", "bram", "dsp", "io", "wire", "other")


def _base_type(cell_type: str) -> str:
    """Cell type without Yosys' escaping and ``$paramod$<hash>\\`` prefix."""
    name = cell_type.lstrip("\\")
    if name.startswith("$paramod"):
        name = name.rsplit("\\", 1)[-1]
    return name


def cell_class(family: str, cell_type: str) -> str:
    """The resource class (one of :data:`CLASSES`) of a cell type in a family."""
    if family not in _RULES:
        raise ToolError(f"unknown FPGA family {family!r}; known: {', '.join(FAMILIES)}")
    name = _base_type(cell_type)
    if name.startswith("$"):
        return "wire" if name in ("$scopeinfo",) else "other"
    for pattern, cls in _RULES[family]:
        if re.fullmatch(pattern, name):
            return cls
    return "other"


def lutram_luts(cell_type: str) -> int:
    """LUT equivalents of one LUT-RAM cell (1 if the type is not in :data:`LUTRAM_LUTS`)."""
    return LUTRAM_LUTS.get(_base_type(cell_type), 1)


def bram_units(cell_type: str) -> int:
    """Basic block RAMs one block RAM cell occupies (:data:`BRAM_UNITS`, else 1)."""
    return BRAM_UNITS.get(_base_type(cell_type), 1)


@dataclass(frozen=True)
class Resources:
    """Resources of one synthesized design (cell counts; ``lutram`` in LUT equivalents).

    ``luts`` = ``lut_logic + lutram``; ``other_types`` lists unrecognised cell types."""

    lut_logic: int = 0
    lutram: int = 0
    ff: int = 0
    carry: int = 0
    mux: int = 0
    bram: int = 0
    dsp: int = 0
    other_types: dict[str, int] = field(default_factory=dict)

    @property
    def luts(self) -> int:
        return self.lut_logic + self.lutram

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "luts": self.luts}


def cells_by_type(stat: dict, top: str | None = None) -> dict[str, int]:
    """``num_cells_by_type`` of module ``top`` (default: the only module) of a
    ``stat -json`` document (a flattened design has one module)."""
    modules = stat.get("modules")
    if not isinstance(modules, dict) or not modules:
        raise ToolError("stat -json output has no modules")
    if top is None:
        if len(modules) != 1:
            raise ToolError(f"stat -json output has {len(modules)} modules; flatten the design or name the top")
        (module,) = modules.values()
    else:
        module = modules.get("\\" + top) or modules.get(top)
        if module is None:
            raise ToolError(f"stat -json output has no module {top!r}")
    return {str(k): int(v) for k, v in module.get("num_cells_by_type", {}).items()}


def count_resources(stat: dict, family: str, top: str | None = None) -> Resources:
    """Resource classes of a ``stat -json`` document for ``family`` (see the module doc)."""
    totals = dict.fromkeys(CLASSES, 0)
    other: dict[str, int] = {}
    for cell_type, count in cells_by_type(stat, top).items():
        cls = cell_class(family, cell_type)
        if cls == "lutram":
            totals["lutram"] += count * lutram_luts(cell_type)
        elif cls == "bram":
            totals["bram"] += count * bram_units(cell_type)
        else:
            totals[cls] += count
        if cls == "other":
            other[_base_type(cell_type)] = count
    return Resources(lut_logic=totals["lut"], lutram=totals["lutram"], ff=totals["ff"],
                     carry=totals["carry"], mux=totals["mux"], bram=totals["bram"],
                     dsp=totals["dsp"], other_types=other)
