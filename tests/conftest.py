"""Shared pytest fixtures."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data():
    """Folder of real data sets (``libsvm/``, ``text/``), kept beside the project checkout."""
    from_env = os.environ.get("FASTTEXT_LIN_DATA")
    if from_env and Path(from_env).is_dir():
        return Path(from_env)
    beside_checkout = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if beside_checkout.is_dir():
        return beside_checkout
    pytest.skip("shared data directory not found: set FASTTEXT_LIN_DATA to ../shared/data")
