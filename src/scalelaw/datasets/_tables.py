"""Loaders of the bundled tables (datablations, porian2024, markov-ladder, ladder-hparams)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
SETUP_COLUMNS: tuple[str, ...] = ("source_file", "dataset", "hparams", "warmup", "decay", "param_count", "loss_type")
ALL_RUNS = "all_runs_cell1"
PAPER_FIT = "paper_fit_182_cell25"


def load_datablations() -> pd.DataFrame:
    """One row per distinct run; subset membership as boolean tags (the subsets overlap)."""
    raw = pd.read_csv(HERE / "datablations" / "final_losses.csv")
    in_paper = set(raw.loc[raw["subset"] == PAPER_FIT, "run_name"])
    in_all = set(raw.loc[raw["subset"] == ALL_RUNS, "run_name"])
    table = raw.drop_duplicates("run_name", keep="first").reset_index(drop=True)
    return pd.DataFrame(
        {
            "run": table["run_name"].astype(str),
            "loss": table["val_loss_c4"].astype(float),
            "params": table["params"].astype(float),
            "tokens": table["tokens"].astype(float),
            "unique_tokens": table["unique_tokens"].astype(float),
            "epochs": table["epochs"].astype(float),
            "subset": [PAPER_FIT if r in in_paper else ALL_RUNS for r in table["run_name"]],
            "in_all_runs": [r in in_all for r in table["run_name"]],
            "in_paper_fit": [r in in_paper for r in table["run_name"]],
        }
    )


def load_porian() -> pd.DataFrame:
    """Each isoFLOP point is a run; run id = setup / FLOP budget / model size."""
    raw = pd.read_csv(HERE / "porian2024" / "isoflop_points.csv")
    setup = raw[list(SETUP_COLUMNS)].astype(str).agg("/".join, axis=1)
    run = setup + "/C=" + raw["flops"].map("{:.4g}".format) + "/N=" + raw["params"].map("{:.0f}".format)
    table = pd.DataFrame({"run": run, "loss": raw["loss"].astype(float)})
    for column in ("params", "tokens", "flops"):
        table[column] = raw[column].astype(float)
    table["setup"] = setup
    for column in SETUP_COLUMNS:
        table[column] = raw[column].astype(str)
    return table


def load_markov_ladder() -> pd.DataFrame:
    """scalelaw's own ladder on a Markov corpus: every evaluated checkpoint, lr as a spec per run."""
    return pd.read_csv(HERE / "markov_ladder" / "runs.csv")


def published_fits() -> pd.DataFrame:
    """Porian et al.'s fits per setup (exponents of N*(C), D*(C) and L*(C) = E + A C^-alpha)."""
    return pd.read_csv(HERE / "porian2024" / "published_fits.csv")


def published_metrics() -> pd.DataFrame:
    """The Multi-Power Law paper's own per-curve metrics (R², MAE, RMSE, PredE, WorstE)."""
    return pd.read_csv(HERE / "multipowerlaw" / "published_metrics.csv")


def load_ladder_hparams() -> pd.DataFrame:
    """The generated lr × batch-size grid of ladder runs; diverged runs (no final loss) are left out."""
    raw = pd.read_csv(HERE / "ladder_hparams" / "grid.csv")
    table = raw.loc[~raw["diverged"].astype(bool)].drop(columns=["diverged"]).reset_index(drop=True)
    for column in ("params", "non_embedding_params", "tokens", "batch_size", "lr", "loss", "entropy_rate"):
        table[column] = table[column].astype(float)
    return table
