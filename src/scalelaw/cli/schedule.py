"""The ``scalelaw schedule`` commands: show a schedule's per-step lr, find the best schedule for a fit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from scalelaw.data.schedules import Schedule

schedule_app = typer.Typer(help="Learning-rate schedules: show one, or optimise one for a fitted curve law.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``schedule`` command group to ``app``."""
    app.add_typer(schedule_app, name="schedule")


@schedule_app.command("show")
def show(
    spec: str = typer.Argument(..., help='A schedule spec, e.g. "cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5".'),
    points: int = typer.Option(20, "--points", min=2, help="How many evenly spaced steps to print."),
    plot: str | None = typer.Option(None, "--plot", help="Also draw the lr of every step into this image file."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Print the learning rate of a schedule at evenly spaced steps (step s = the s-th update)."""
    import numpy as np

    from scalelaw.cli.output import console, print_json, print_table
    from scalelaw.data.schedules import parse_schedule
    from scalelaw.laws._curves import default_steps

    schedule = parse_schedule(spec)
    steps = np.unique(np.concatenate([[0], default_steps(schedule.total_steps, points)]))
    rows = [{"step": int(s), "lr": float(v)} for s, v in zip(steps, schedule.lr(steps.astype(float)), strict=True)]
    if plot:
        _plot(schedule, plot)
    if as_json:
        print_json({"spec": schedule.to_spec(), "total_steps": schedule.total_steps, "points": rows})
        return
    print_table(schedule.to_spec(), rows, ["step", "lr"])
    if plot:
        console.print(f"plot written to {plot}")


@schedule_app.command("optimize")
def optimize(
    fit_file: str = typer.Argument(..., metavar="FIT.json", help="A fit of a loss-curve law (multi-power, lr-annealing)."),
    total: int = typer.Option(..., "--total", min=1, help="Total training steps."),
    peak: float = typer.Option(..., "--peak", help="Peak learning rate."),
    warmup: int = typer.Option(0, "--warmup", min=0, help="Linear warmup steps."),
    final: float | None = typer.Option(None, "--final", help="Final learning rate (default peak/10)."),
    family: str = typer.Option("wsd", "--family", help="wsd (decay start x shape) or free (monotone piecewise-linear)."),
    params: float | None = typer.Option(None, "--params", help="Model size N, for multi-power-sized fits."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Find the schedule with the lowest predicted final loss, and its gain over a cosine."""
    from scalelaw.cli.output import print_json, print_table
    from scalelaw.fit import load_fit
    from scalelaw.plan.schedule import optimize_schedule

    fit = load_fit(fit_file)
    best = optimize_schedule(fit.law, fit.params, total=total, peak=peak, warmup=warmup, final=final,
                             family=family, size=params)
    result = {
        "best_schedule": best.schedule.to_spec(),
        "best_final_loss": best.final_loss,
        "cosine_schedule": best.cosine.to_spec(),
        "cosine_final_loss": best.cosine_loss,
        "gain_over_cosine": best.gain,
        "schedules_evaluated": best.evaluated,
    }
    if as_json:
        print_json(result)
    else:
        print_table(f"best {family} schedule for {fit.law.name}", [{"quantity": k, "value": v} for k, v in result.items()],
                    ["quantity", "value"])


def _plot(schedule: Schedule, path: str) -> None:
    """Draw the per-step lr of ``schedule`` into an image file."""
    import io

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scalelaw.data.atomic import atomic_write, check_output_path
    from scalelaw.errors import InputError

    target = check_output_path(path, option="--plot")
    steps = np.arange(0, schedule.total_steps + 1)
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot(steps, schedule.lr(steps.astype(float)))
    axes.set_xlabel("step")
    axes.set_ylabel("learning rate")
    axes.set_title(schedule.to_spec(), fontsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    try:  # the format is the suffix's, and the file is exactly the path given (matplotlib would add .png)
        figure.savefig(buffer, format=target.suffix.lstrip(".").lower() or "png")
        atomic_write(target, lambda handle: handle.write(buffer.getvalue()))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot write the plot: {exc}", file=path) from None
    finally:
        plt.close(figure)

