"""End-to-end tests: real tools, no network, temporary folders only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

OFFLINE = {
    "WANDB_MODE": "offline",
    "WANDB_SILENT": "true",
    "WANDB_DISABLE_GIT": "true",
    "WANDB_DISABLE_CODE": "true",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING": "false",
}


@pytest.fixture(scope="session", autouse=True)
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every tool offline, its caches and settings in a temporary folder, and one torch thread (CI has 2 cores)."""
    import torch

    home = tmp_path_factory.mktemp("home")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in OFFLINE.items():
            patch.setenv(name, value)
        for name in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "HF_HOME"):
            patch.setenv(name, str(home / name.lower()))
        for name in ("MLFLOW_TRACKING_URI", "WANDB_API_KEY", "WANDB_BASE_URL"):
            patch.delenv(name, raising=False)
        yield
    torch.set_num_threads(threads)
