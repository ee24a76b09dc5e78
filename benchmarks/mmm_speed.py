"""Speed of the MMM: three years of daily data, 8 channels, point fit plus bootstrap intervals.

    python benchmarks/mmm_speed.py                 # 1,096 days, 8 channels, 100 refits, 2 workers
    python benchmarks/mmm_speed.py --n-boot 200 --jobs 2

The data come from :func:`channelkit.mmm.simulate.simulate_mmm` (daily, 8 channels). Prints the
wall time of the point fit (two passes: sigma, then priors and lift terms) and of the fit with
its bootstrap refits (every parameter refitted in every resample), beside the target (issue 19:
under 2 minutes on 2 cores); then the CPU seconds per refit measured serially and the wall time
they project on two idle cores (on a shared machine the wall time measures the neighbours too). A reference implementation is not run here: PyMC-Marketing
needs PyTensor's C compiler at run time (and an LGPL dependency) and Robyn needs R; neither is
installable in the `bench` extra offline, so no side-by-side time is claimed.
"""
from __future__ import annotations

import argparse
import time

from channelkit.mmm import channel_summary, fit_mmm
from channelkit.mmm.simulate import simulate_mmm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=1096)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--n-boot", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cpu-refits", type=int, default=10, help="serial refits timed in CPU seconds")
    args = parser.parse_args()
    panel, truth = simulate_mmm(seed=1, n_periods=args.days, n_channels=args.channels, freq="D")
    channels = list(truth["channels"])
    start = time.perf_counter()
    point = fit_mmm(panel, spend_cols=channels, control_cols=["price"], n_boot=0, festivals=False)
    t_point = time.perf_counter() - start
    start = time.perf_counter()
    full = fit_mmm(panel, spend_cols=channels, control_cols=["price"], n_boot=args.n_boot, n_jobs=args.jobs,
                   festivals=False)
    t_full = time.perf_counter() - start
    channel_summary(full)
    # CPU seconds, measured serially, so the figure does not depend on what else the machine runs
    cpu = time.process_time()
    fit_mmm(panel, spend_cols=channels, control_cols=["price"], n_boot=0, festivals=False)
    cpu_point = time.process_time() - cpu
    cpu = time.process_time()
    fit_mmm(panel, spend_cols=channels, control_cols=["price"], n_boot=args.cpu_refits, n_jobs=1, festivals=False)
    cpu_refit = (time.process_time() - cpu - cpu_point) / args.cpu_refits
    projected = cpu_point + args.n_boot * cpu_refit / args.jobs
    print(f"{'periods':>8} {'channels':>9} {'refits':>7} {'workers':>8} {'point fit s':>12} {'fit+intervals s':>16} "
          f"{'CPU s/refit':>12} {'projected s':>12} {'target s':>9}")
    print(f"{point.data.n:>8} {len(channels):>9} {args.n_boot:>7} {args.jobs:>8} {t_point:>12.1f} {t_full:>16.1f} "
          f"{cpu_refit:>12.2f} {projected:>12.1f} {120:>9}")
    print("wall times are as measured on this machine now; 'projected' = CPU of the point fit + refits x CPU per "
          "refit / workers, the wall time on idle cores")


if __name__ == "__main__":
    main()
