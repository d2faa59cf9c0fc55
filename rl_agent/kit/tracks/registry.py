"""The training tracks this build has: the only place that lists them.

A new algorithm is a module in tracks/ (a Track subclass and its settings) plus its templates, and one
line here; nothing else in the package names an algorithm.
"""

from __future__ import annotations

from typing import Literal

from rl_agent.errors import RlAgentError
from rl_agent.kit.tracks.base import Track
from rl_agent.kit.tracks.dpo import DPOTrack
from rl_agent.kit.tracks.grpo import GRPOTrack
from rl_agent.kit.tracks.kto import KTOTrack
from rl_agent.kit.tracks.sft import SFTTrack

TRACKS: dict[str, Track] = {t.name: t for t in (DPOTrack(), GRPOTrack(), SFTTrack(), KTOTrack())}
DEFAULT_TRACK = "dpo"
JUDGED_TRACKS = tuple(name for name, t in TRACKS.items() if t.trains_judged_check)  # may train a rubric.md task
# The algorithm names as a type (task.json, recipe plans, spec.json): generated here, so no other module lists them.
TrackName = Literal[tuple(TRACKS)]  # type: ignore[valid-type]


class UnknownTrack(RlAgentError, ValueError):
    """An algorithm name no track answers to."""


def get_track(name: str) -> Track:
    try:
        return TRACKS[name]
    except KeyError:
        raise UnknownTrack(f"unknown track {name!r}; expected one of {', '.join(TRACKS)}") from None
