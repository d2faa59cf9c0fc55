"""Claude sessions on the Agent SDK: the repair agent (agent.py with the run-folder tools in sdk_tools.py) and
the task-folder author (author.py with author_tools.py). Both are locked to the run folder."""
