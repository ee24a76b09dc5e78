"""Time and peak memory to generate, load and validate the sample retailer at a given scale.

Each step runs in its own fresh process (so one step's memory does not count towards the next),
one after the other; the figures reported are that process's wall time, CPU time (user + system;
on a shared machine wall time also counts waiting for a core) and maximum resident set size
(ru_maxrss, which includes the Python interpreter and the imported libraries: the ``baseline`` row
shows what importing alone costs).

    .venv/bin/python benchmarks/data_scale.py [--scale large] [--seed 7] [--out DIR] [--keep]
    .venv/bin/python benchmarks/data_scale.py --data /tmp/h2/large      # an existing folder

Steps: ``generate`` (``channelkit.data.sample.generate``; skipped with ``--data``),
``read_parquet`` (the peer: ``pandas.read_parquet`` of every Parquet table with pandas' defaults,
no checks: what loading costs without channelkit), ``load_dataset`` (read every table, check it
against the contract, type it: what notebooks call), ``validate_dataset`` (the check `channelkit
validate` runs, returning the list of problems) and ``load + daily_sales`` (what a forecast or
promotion run starts with). The last columns give each step's time and peak memory as a ratio
to the peer's, from the same run.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from pathlib import Path


def _baseline(out: str, seed: int, scale: str, compact: bool) -> str:
    import channelkit.data  # noqa: F401
    import channelkit.data.sample  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    return "imports only"


def _generate(out: str, seed: int, scale: str, compact: bool) -> str:
    from channelkit.data.sample import generate, load_truth

    generate(out, seed=seed, scale=scale)
    rows = load_truth(out)["rows"]
    return f"orders {rows['orders']:,} lines, touchpoints {rows['touchpoints']:,}"


def _read_parquet(out: str, seed: int, scale: str, compact: bool) -> str:
    import pandas as pd

    rows = sum(len(pd.read_parquet(p)) for p in sorted(Path(out).glob("*.parquet")))
    return f"{rows:,} Parquet rows read"


def _load(out: str, seed: int, scale: str, compact: bool) -> str:
    from channelkit.data import load_dataset

    ds = load_dataset(out, compact_labels=compact)
    return f"orders {len(ds.orders):,} rows typed"


def _validate(out: str, seed: int, scale: str, compact: bool) -> str:
    from channelkit.data import validate_dataset

    problems = validate_dataset(out)
    return f"{len(problems)} problems"


def _daily_sales(out: str, seed: int, scale: str, compact: bool) -> str:
    from channelkit.data import daily_sales, load_dataset

    panel = daily_sales(load_dataset(out, compact_labels=compact))
    return f"panel {len(panel):,} rows"


STEPS = {"baseline": _baseline, "generate": _generate, "read_parquet": _read_parquet, "load_dataset": _load,
         "validate_dataset": _validate, "load + daily_sales": _daily_sales}


def _child(step: str, out: str, seed: int, scale: str, compact: bool, queue: mp.Queue) -> None:
    start, cpu_start = time.perf_counter(), time.process_time()
    note = STEPS[step](out, seed, scale, compact)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    queue.put((seconds, cpu, peak_mb, note))


def run_step(step: str, out: Path, seed: int, scale: str, compact: bool = False) -> tuple[float, float, float, str]:
    """Run one step in a fresh process; returns (wall seconds, CPU seconds, peak resident MB, note)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(step, str(out), seed, scale, compact, queue))
    proc.start()
    result = queue.get()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"step {step} failed with exit code {proc.exitcode}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "medium", "large"), default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="folder to generate into (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    parser.add_argument("--data", type=Path, default=None, help="benchmark this existing folder (no generate step)")
    parser.add_argument("--compact-labels", action="store_true", help="load_dataset(..., compact_labels=True)")
    args = parser.parse_args()
    out = args.data or args.out or Path(tempfile.mkdtemp(prefix=f"channelkit-{args.scale}-"))
    print(f"scale={args.scale if args.data is None else '-'} seed={args.seed} out={out} "
          f"compact_labels={args.compact_labels}")
    print(f"{'step':<20}{'wall s':>9}{'cpu s':>9}{'peak MB':>9}{'cpu/peer':>10}{'MB/peer':>9}  note")
    peer = None
    try:
        for step in STEPS:
            if step == "generate" and args.data is not None:
                continue
            seconds, cpu, peak, note = run_step(step, out, args.seed, args.scale, args.compact_labels)
            peer = (cpu, peak) if step == "read_parquet" else peer
            ratio = f"{cpu / peer[0]:>10.2f}{peak / peer[1]:>9.2f}" if peer and step not in ("baseline", "generate") \
                else f"{'':>10}{'':>9}"
            print(f"{step:<20}{seconds:>9.1f}{cpu:>9.1f}{peak:>9.0f}{ratio}  {note}", flush=True)
        size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
        print(f"folder size: {size:.1f} MB ({', '.join(sorted(p.name for p in out.iterdir()))})")
    finally:
        if not args.keep and args.out is None and args.data is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
