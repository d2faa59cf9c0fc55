"""The one error a pipeline stage raises (apart from its own module, so the driver and the estimator that
runs its train stage can both raise it without importing each other)."""

from rl_agent.errors import RlAgentError


class StageError(RlAgentError):
    """A stage failed; the message is one line, the details are in the run's log file."""
