"""rl-agent: reinforcement learning (DPO, GRPO, SFT, KTO with LoRA) on small open models, with Claude as writer
and grader. `rl-agent --version` prints __version__."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rl-agent")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
