"""Typed run specs: what to train, on what, with which settings. Saved as run.json in the run folder.

Why pydantic: specs come from files users edit (and later from Claude), so every field is validated with
a message that names it, instead of failing deep inside a training script.

`algorithm` names a track in the registry; each track's settings live in a block named after it (`dpo`,
`grpo`, `sft`, `kto`), so run.json and spec.json files written before the tracks/ layout load unchanged.
The blocks are generated from the registry, so a new track needs no edit here.
"""

from __future__ import annotations

from pydantic import Field, create_model, field_validator

from rl_agent.kit.settings import RunBase
from rl_agent.kit.tracks.registry import DEFAULT_TRACK, TRACKS, get_track


class _RunSpecBase(RunBase):
    """RunBase with its algorithm checked against the track registry."""

    algorithm: str = DEFAULT_TRACK

    @field_validator("algorithm")
    @classmethod
    def _known_track(cls, value: str) -> str:
        get_track(value)  # raises with the list of tracks
        return value


RunSpec = create_model(
    "RunSpec",
    __base__=_RunSpecBase,
    __module__=__name__,
    **{name: (track.settings_cls, Field(default_factory=track.settings_cls)) for name, track in TRACKS.items()},
)
