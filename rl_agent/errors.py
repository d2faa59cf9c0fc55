"""The one base class of every error rl-agent reports to a user.

Why: a command can catch RlAgentError and print its one-line message (what is wrong and where) instead of a
traceback, and a caller can tell the kit's own refusals from bugs. Each error keeps its built-in kind too
(ValueError for bad input, RuntimeError for a failed step), so `except ValueError` keeps working.

The runtime (rl_agent/runtime/) is the exception: it is copied into run folders and runs without rl-agent,
so it imports nothing from here; the kit turns its errors into these where a user sees them.
"""


class RlAgentError(Exception):
    """An error rl-agent reports to a user: the message says what is wrong and where."""
