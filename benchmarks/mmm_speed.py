"""Speed of the MMM: three years of daily data, 8 channels, point fit plus bootstrap intervals.

    python benchmarks/mmm_speed.py                 # 1,096 days, 8 channels, 100 refits, 2 workers
    python benchmarks/mmm_speed.py --n-boot 200 --jobs 2

The data come from :func:`channelkit.mmm.simulate.simulate_mmm` (daily, 8 channels). Prints the
wall time of the point fit (two passes: sigma, then priors and lift terms), of the bootstrap
refits (every parameter refitted in every resample) and of the whole, beside the target (issue
19: under 2 minutes on 2 cores). A reference implementation is not run here: PyMC-Marketing
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
    print(f"{'periods':>8} {'channels':>9} {'refits':>7} {'workers':>8} {'point fit s':>12} {'fit+intervals s':>16} "
          f"{'target s':>9}")
    print(f"{point.data.n:>8} {len(channels):>9} {args.n_boot:>7} {args.jobs:>8} {t_point:>12.1f} {t_full:>16.1f} "
          f"{120:>9}")


if __name__ == "__main__":
    main()
