"""`setup_run` stopped at a stage: the run folder planned and rendered, nothing run from that stage on; for
the tests of what happens before a stage (the time estimate, the plan it re-makes)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from rl_agent.agent.start import UserError, setup_run
from rl_agent.kit.pipeline.driver import Pipeline
from rl_agent.kit.pipeline.run_folder import RunFolder


class Stop(Exception):
    """Raised instead of a stage: these tests are about what happens before it."""


def stopped_setup(tmp_path, monkeypatch, stage="train", **kwargs):
    """setup_run with `stage` replaced by a Stop: the run folder is rendered, nothing trains."""

    def stop(self, state):
        raise Stop

    monkeypatch.setattr(Pipeline, f"stage_{stage}", stop)
    out = io.StringIO()
    args = dict(
        track="dpo",
        offline=True,
        model=None,
        run_dir=tmp_path / "run",
        steps=None,
        train=None,
        heldout=None,
        reward=None,
        max_cost=None,
        yes=True,
    )
    args.update(kwargs)
    with pytest.raises((Stop, UserError)) as raised:
        setup_run(Console(file=out, width=200), **args)
    return RunFolder(tmp_path / "run"), out.getvalue(), raised.value
