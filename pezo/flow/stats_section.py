"""The perturbation-statistics section of the report: ``pezo stats`` on the report's
configuration (ref/stats.py), cached on the golden-model sources, and its Markdown."""

from __future__ import annotations

from pezo.flow.cache import Cache, cache_key, source_digest
from pezo.ref.config import PezoConfig
from pezo.ref.stats import DEFAULT_STEPS, STATS, format_value, measure_sources, target_text

#: What the statistics depend on: every golden model (sources, engine, stats).
STATS_SOURCES = ("ref/*.py", "ref/gaussian/*.py", "ref/train/*.py")


def step_stats(base: PezoConfig, cache: Cache, steps: int = DEFAULT_STEPS) -> dict:
    """``measure_sources(base, steps)`` (cached)."""
    key = cache_key(kind="stats", config=base.to_dict(), steps=steps, sources=source_digest(STATS_SOURCES))
    hit = cache.get(key)
    if hit is not None:
        return {**hit, "cached": True}
    result = measure_sources(base, steps, progress=True)
    cache.put(key, result)
    return result


def markdown(doc: dict) -> list[str]:
    """The section: one row per statistic, one column per source, the floor first;
    each non-floor value carries PASS / MISS against its target."""
    s = doc.get("stats")
    if s is None or s.get("skipped"):
        return []
    if "error" in s:
        return ["## Perturbation statistics", "", f"FAILED: {s['error']}", ""]
    floor_name, cfg = s["floor"], s["config"]
    names = [floor_name] + [n for n in s["sources"] if n != floor_name]
    limit = s["d"] // cfg["pool_size"]
    lines = ["## Perturbation statistics (bit-exact models, `pezo stats`)", "",
             f"d = {s['d']} parameters (8 x pool_size {cfg['pool_size']}), P = {cfg['parallel']}, "
             f"{s['steps']} steps; the {floor_name} source measured the same way is the noise floor. "
             "Definitions in `ref/stats.py`.", "",
             "| statistic | target | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    for stat in STATS:
        cells = [format_value(s["sources"][floor_name][stat])]
        cells += [f"{format_value(s['sources'][n][stat])} {'PASS' if s['verdicts'][n][stat] else 'MISS'}"
                  for n in names[1:]]
        lines.append(f"| {stat} | {target_text(stat, limit)} | " + " | ".join(cells) + " |")
    return lines + [""]

