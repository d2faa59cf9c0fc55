"""`--report-to`: which experiment tracker TRL logs to, checked before training starts.

TRL passes `report_to` to transformers' Trainer, which fails only once training begins when the tracker's
package is missing; checking the training interpreter first turns that into one clear error up front.
With TensorBoard the rendered script points the event files at the run folder (`tb/`).
"""

from __future__ import annotations

from rl_agent.errors import RlAgentError
from rl_agent.kit.models.environment import missing_modules

TRACKERS: dict[str, str | None] = {"none": None, "tensorboard": "tensorboard", "trackio": "trackio", "wandb": "wandb"}
TENSORBOARD_DIR = "tb"


class TrackerError(RlAgentError, ValueError):
    """An unknown tracker, or one whose package the training interpreter lacks."""


def check_report_to(report_to: str, python: str) -> str:
    """The validated tracker name; TrackerError naming the package and how to install it otherwise."""
    if report_to not in TRACKERS:
        raise TrackerError(f"--report-to must be one of {', '.join(TRACKERS)}, not {report_to!r}")
    module = TRACKERS[report_to]
    if module and missing_modules(python, (module,)):
        raise TrackerError(
            f"--report-to {report_to} needs the {module!r} package in the training environment "
            f"({python}): install it there with `{python} -m pip install {module}` "
            "(or the rl-agent `track` extra), or use --report-to none"
        )
    return report_to
