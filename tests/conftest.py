"""Shared fixtures: the small sample retailer, generated once per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE_SEED = 7


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small sample retailer (seed 7), written once per session into a temporary folder."""
    from channelkit.data.sample import generate

    out = tmp_path_factory.mktemp("sample")
    return generate(out, seed=SAMPLE_SEED, scale="small")


@pytest.fixture(scope="session")
def sample_truth(sample_dir: Path) -> dict:
    """The ground truth the generator drew for ``sample_dir``."""
    from channelkit.data.sample import load_truth

    return load_truth(sample_dir)


@pytest.fixture(scope="session")
def sample_dataset(sample_dir: Path):
    """The small sample loaded and validated through the public loader."""
    from channelkit.data import load_dataset

    return load_dataset(sample_dir)
