"""Repairs without Claude: the catalogue of known failures (catalogue.py), the confined patches (repairer.py),
the loop that runs, diagnoses and patches (loop.py, its record in log.py), the checks before a run
(preflight.py), and what is tried when nothing is recognised (fallbacks.py: re-render, revert)."""
