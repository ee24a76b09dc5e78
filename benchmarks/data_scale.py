"""Time and peak memory to generate, load and validate the sample retailer at a given scale.

Each step runs in its own fresh process (so one step's memory does not count towards the next),
one after the other; the figures reported are that process's wall time, CPU time (user + system;
on a shared machine wall time also counts waiting for a core) and maximum resident set size
(ru_maxrss, which includes the Python interpreter and the imported libraries: the ``baseline`` row
shows what importing alone costs).

    .venv/bin/python benchmarks/data_scale.py [--scale large] [--seed 7] [--out DIR] [--keep]

Steps: ``generate`` (``channelkit.data.sample.generate``), ``load_dataset`` (read every table,
check it against the contract, type it: what notebooks call) and ``validate_dataset`` (the check
`channelkit validate` runs, returning the list of problems).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from pathlib import Path


def _baseline(out: str, seed: int, scale: str) -> str:
    import channelkit.data  # noqa: F401
    import channelkit.data.sample  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    return "imports only"


def _generate(out: str, seed: int, scale: str) -> str:
    from channelkit.data.sample import generate, load_truth

    generate(out, seed=seed, scale=scale)
    rows = load_truth(out)["rows"]
    return f"orders {rows['orders']:,} lines, touchpoints {rows['touchpoints']:,}"


def _load(out: str, seed: int, scale: str) -> str:
    from channelkit.data import load_dataset

    ds = load_dataset(out)
    return f"orders {len(ds.orders):,} rows typed"


def _validate(out: str, seed: int, scale: str) -> str:
    from channelkit.data import validate_dataset

    problems = validate_dataset(out)
    return f"{len(problems)} problems"


STEPS = {"baseline": _baseline, "generate": _generate, "load_dataset": _load, "validate_dataset": _validate}


def _child(step: str, out: str, seed: int, scale: str, queue: mp.Queue) -> None:
    start, cpu_start = time.perf_counter(), time.process_time()
    note = STEPS[step](out, seed, scale)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    queue.put((seconds, cpu, peak_mb, note))


def run_step(step: str, out: Path, seed: int, scale: str) -> tuple[float, float, float, str]:
    """Run one step in a fresh process; returns (wall seconds, CPU seconds, peak resident MB, note)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(step, str(out), seed, scale, queue))
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
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix=f"channelkit-{args.scale}-"))
    print(f"scale={args.scale} seed={args.seed} out={out}")
    print(f"{'step':<18}{'wall s':>10}{'cpu s':>10}{'peak MB':>10}  note")
    try:
        for step in STEPS:
            seconds, cpu, peak, note = run_step(step, out, args.seed, args.scale)
            print(f"{step:<18}{seconds:>10.1f}{cpu:>10.1f}{peak:>10.0f}  {note}", flush=True)
        size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
        print(f"folder size: {size:.1f} MB ({', '.join(sorted(p.name for p in out.iterdir()))})")
    finally:
        if not args.keep and args.out is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
