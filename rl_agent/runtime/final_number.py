"""Verifier for answers that end with a final-answer marker, "... #### 42" (GSM8K's convention).

Why a marker: a program can then check the answer for correctness, not for looks: the reward is whether
the number after the last "####" equals the true answer, so a well-formatted wrong answer earns nothing
(only a small format term, far below a correct answer). Standard library only: rendered scripts inline
this source, and the kit calls the same functions, so the two cannot disagree.
"""

import re

MARKER = "####"
_FINAL = re.compile(r"####\s*(-?\d+(?:\.\d+)?)\s*\.?\s*$")
FORMAT_CREDIT = 0.1  # a correct answer scores 1.0; a wrong one in the right format only this


def parse_final_number(output):
    """The number after the final "####" at the end of the answer, or None when there is none."""
    match = _FINAL.search(str(output).strip())
    if not match:
        return None
    value = float(match.group(1))
    return int(value) if value.is_integer() else value


def _as_number(reference):
    text = str(reference).strip().rstrip(".")
    if MARKER in text:
        return parse_final_number(text)
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def final_number(prompt, output, reference=None):
    """1.0 when the final number equals the reference; FORMAT_CREDIT when it is well-formed but wrong;
    0.0 with no final "#### N"; None when there is no numeric reference to check against."""
    truth = _as_number(reference) if reference is not None else None
    if truth is None:
        return None, "no numeric reference answer"
    got = parse_final_number(output)
    if got is None:
        return 0.0, "no final answer marked '#### N' at the end"
    if got == truth:
        return 1.0, f"final answer {got} is correct"
    return FORMAT_CREDIT, f"final answer {got} is wrong (expected {truth})"


def final_number_format_only(prompt, output, reference=None):
    """A deliberately bad reward that checks the format and not the truth: any "#### N" scores 1.0.
    Shipped so a test (and a curious user) can watch the reward-hacking guard catch it."""
    if parse_final_number(output) is None:
        return 0.0, "no final answer marked '#### N' at the end"
    return 1.0, "has a final '#### N' (correctness not checked)"
