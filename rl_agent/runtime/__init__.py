"""What runs inside a run folder: the chat formatting, the correctness check, the offline style judge, the
verifiers, TRL's reward adapter and the task-check runner.

Why one package: the kit and the rendered scripts must not disagree about what "correct" or "terse" means.
Rendering copies this folder beside the scripts as `rl_agent_runtime/` (RUNTIME_PACKAGE), the scripts import
it from there, and the kit imports the same modules from here. So a run folder still runs with no rl-agent
installed, and nothing is pasted into a script as source text.

Rules that keep the copy working: standard library only, and imports between these modules are relative.
"""

RUNTIME_PACKAGE = "rl_agent_runtime"
