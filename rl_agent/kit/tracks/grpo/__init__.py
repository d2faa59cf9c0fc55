"""GRPO + LoRA (online RL), as one package: the settings (config.py, TRL's GRPOConfig names), the track
(track.py), how a judge spec reaches the scripts (scorers.py), the reward-hacking guard (guard.py), setup's
flags (setup.py) and the settings of a task judged by Claude (judged.py)."""

from rl_agent.kit.tracks.grpo.config import GRPOSettings
from rl_agent.kit.tracks.grpo.track import GRPOTrack

__all__ = ["GRPOSettings", "GRPOTrack"]
