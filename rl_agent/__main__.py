"""`python -m rl_agent` runs the CLI, for environments where the console script is not on PATH."""

from rl_agent.cli import app

app(prog_name="rl-agent")
