"""The everyday fault set: mistakes a new user makes that nobody wrote a catalogue entry for.

Written before any repair for them (issue 12), and kept as first written, so the rate bench/repair.py
reports for this set measures how far the repair strategies generalise, not how well a catalogue was grown
to fit. Only an injection bug may be fixed here (and the commit says so).

Each injector acts on a real rendered run folder (faults.prepare_run), as a person would: a hand edit of
the rendered script's CONFIG or code, a data file in another shape, a damaged model folder, an environment
that changed under the run. The failure that follows (if any) is the real one from the real TRL run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rl_agent.kit.pipeline.run_folder import RunFolder
from rl_agent.kit.tracks.registry import get_track
from tests.support.faults import edit_script, own_model, set_spec

TRAIN_SCRIPT = get_track("dpo").train_script  # the everyday set edits a DPO run, as first written


@dataclass(frozen=True)
class EverydayFault:
    id: str
    what: str
    inject: Callable[[RunFolder], None]


# ---- helpers ------------------------------------------------------------------------------------------------


def set_config(folder: RunFolder, key: str, source: str, script: str = TRAIN_SCRIPT) -> None:
    """Hand-edit one CONFIG entry of the rendered script: `"key": <old>,` -> `"key": <source>,`."""
    path = folder.path(script)
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(rf'(?m)^(\s*"{re.escape(key)}": ).*,$', lambda m: f"{m.group(1)}{source},", text, count=1)
    if n != 1:
        raise AssertionError(f"fault injection: no CONFIG entry {key!r} in {script}")
    path.write_text(new, encoding="utf-8")


def _pairs(folder: RunFolder, which: str) -> list[dict]:
    path = Path(getattr(folder.load().spec, which))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rewrite_pairs(
    folder: RunFolder, which: str, name: str, convert: Callable[[dict], dict], *, prefix: str = "", newline: str = "\n"
) -> None:
    """Write the run's pair file `which` (train_file / heldout_file) in another shape and point the spec at it."""
    rows = [json.dumps(convert(r), ensure_ascii=False) for r in _pairs(folder, which)]
    dest = folder.path(name)
    with open(dest, "w", encoding="utf-8", newline="") as f:
        f.write(prefix + newline.join(rows) + newline)
    set_spec(folder, "data", **{which: str(dest)})


# ---- CONFIG edits in the rendered script ----------------------------------------------------------------------


def config_max_steps_zero(folder: RunFolder) -> None:
    set_config(folder, "max_steps", "0")


def config_learning_rate_1e3(folder: RunFolder) -> None:
    set_config(folder, "learning_rate", "1e3")


def config_grad_accum_zero(folder: RunFolder) -> None:
    set_config(folder, "gradient_accumulation_steps", "0")


def config_max_length_8(folder: RunFolder) -> None:
    set_config(folder, "max_length", "8")


def config_lora_targets_bert(folder: RunFolder) -> None:
    set_config(folder, "target_modules", '["query", "value"]')


def config_lora_r_zero(folder: RunFolder) -> None:
    set_config(folder, "r", "0")


def config_tracker_mlflow(folder: RunFolder) -> None:
    # report_to moved from the trainer call into CONFIG (issue 10) after this fault was written: the same
    # hand edit, where the setting now is.
    edit_script(folder, "\"report_to\": 'none',", "\"report_to\": 'mlflow',")


# ---- hand edits to the script's code -----------------------------------------------------------------------


def script_syntax_error(folder: RunFolder) -> None:
    """A CONFIG line whose trailing comma was lost in a hand edit."""
    path = folder.path(TRAIN_SCRIPT)
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(r'(?m)^(\s*"beta": [^,\n]*),$', r"\1", text, count=1)
    if n != 1:
        raise AssertionError("fault injection: no beta line in CONFIG")
    path.write_text(new, encoding="utf-8")


def script_misspelt_call(folder: RunFolder) -> None:
    edit_script(folder, "trainer.train(resume_from_checkpoint=resume)", "trainer.trian(resume_from_checkpoint=resume)")


# ---- data files in other shapes -----------------------------------------------------------------------------


def train_question_good_bad(folder: RunFolder) -> None:
    _rewrite_pairs(
        folder,
        "train_file",
        "my-train.jsonl",
        lambda r: {"question": r["prompt"], "good": r["chosen"], "bad": r["rejected"]},
    )


def heldout_instruction_positive_negative(folder: RunFolder) -> None:
    _rewrite_pairs(
        folder,
        "heldout_file",
        "my-heldout.jsonl",
        lambda r: {"instruction": r["prompt"], "positive": r["chosen"], "negative": r["rejected"]},
    )


def train_conversational_lists(folder: RunFolder) -> None:
    """TRL's conversational preference format: lists of {role, content} messages."""
    _rewrite_pairs(
        folder,
        "train_file",
        "train-conversational.jsonl",
        lambda r: {
            "prompt": [{"role": "user", "content": r["prompt"]}],
            "chosen": [{"role": "assistant", "content": r["chosen"]}],
            "rejected": [{"role": "assistant", "content": r["rejected"]}],
        },
    )


def train_capitalised_keys(folder: RunFolder) -> None:
    _rewrite_pairs(
        folder,
        "train_file",
        "Train.jsonl",
        lambda r: {"Prompt": r["prompt"], "Chosen": r["chosen"], "Rejected": r["rejected"]},
    )


def train_bom_crlf(folder: RunFolder) -> None:
    """Saved by a Windows editor: a UTF-8 byte-order mark and CRLF line ends."""
    _rewrite_pairs(folder, "train_file", "train-windows.jsonl", lambda r: r, prefix="\ufeff", newline="\r\n")


# ---- the model folder ---------------------------------------------------------------------------------------


def model_config_deleted(folder: RunFolder) -> None:
    """The run's own model copy lost its config.json (a clean-up that went too far)."""
    (own_model(folder) / "config.json").unlink()


# ---- the environment ----------------------------------------------------------------------------------------


def env_python_gone(folder: RunFolder) -> None:
    """The interpreter recorded in run.json was removed (a virtual environment deleted or moved)."""
    state = folder.load()
    state.python = str(folder.root.parent / "deleted-venv" / "bin" / "python")
    folder.save(state)


def env_shadowing_module(folder: RunFolder) -> None:
    """A notes file named datasets.py in the run folder shadows the `datasets` library for the script."""
    folder.path("datasets.py").write_text(
        "# which data sets I tried\ntried = ['terse', 'short_answer']\n", encoding="utf-8"
    )


def spec_learning_rate_half(folder: RunFolder) -> None:
    """run.json edited by hand: a learning rate of 0.5 (valid for the spec, far too high for LoRA)."""
    set_spec(folder, dpo__learning_rate=0.5)


def spec_max_length_short(folder: RunFolder) -> None:
    """run.json edited by hand: max_length 24, shorter than most prompt + answer pairs."""
    set_spec(folder, dpo__max_length=24)


EVERYDAY_FAULTS: tuple[EverydayFault, ...] = (
    EverydayFault("config_max_steps_zero", 'CONFIG "max_steps": 0', config_max_steps_zero),
    EverydayFault("config_learning_rate_1e3", 'CONFIG "learning_rate": 1e3', config_learning_rate_1e3),
    EverydayFault("config_grad_accum_zero", 'CONFIG "gradient_accumulation_steps": 0', config_grad_accum_zero),
    EverydayFault("config_max_length_8", 'CONFIG "max_length": 8', config_max_length_8),
    EverydayFault(
        "config_lora_targets_bert",
        'CONFIG LoRA "target_modules": ["query", "value"] (BERT names)',
        config_lora_targets_bert,
    ),
    EverydayFault("config_lora_r_zero", 'CONFIG LoRA "r": 0', config_lora_r_zero),
    EverydayFault(
        "config_tracker_mlflow", 'script edited to report_to="mlflow", which is not installed', config_tracker_mlflow
    ),
    EverydayFault(
        "script_syntax_error", "hand edit lost a comma in CONFIG: the script does not compile", script_syntax_error
    ),
    EverydayFault("script_misspelt_call", "hand edit misspelt trainer.train as trainer.trian", script_misspelt_call),
    EverydayFault("train_question_good_bad", "training pairs with columns question/good/bad", train_question_good_bad),
    EverydayFault(
        "heldout_instruction_positive_negative",
        "held-out pairs with columns instruction/positive/negative",
        heldout_instruction_positive_negative,
    ),
    EverydayFault(
        "train_conversational_lists",
        "training pairs in TRL's conversational format (message lists)",
        train_conversational_lists,
    ),
    EverydayFault(
        "train_capitalised_keys", "training pairs with columns Prompt/Chosen/Rejected", train_capitalised_keys
    ),
    EverydayFault("train_bom_crlf", "training file with a UTF-8 byte-order mark and CRLF line ends", train_bom_crlf),
    EverydayFault("model_config_deleted", "the run's model copy lost its config.json", model_config_deleted),
    EverydayFault("env_python_gone", "the interpreter in run.json no longer exists", env_python_gone),
    EverydayFault(
        "env_shadowing_module", "a datasets.py notes file in the run folder shadows the library", env_shadowing_module
    ),
    EverydayFault("spec_learning_rate_half", "run.json learning rate 0.5", spec_learning_rate_half),
    EverydayFault("spec_max_length_short", "run.json max_length 24, shorter than most pairs", spec_max_length_short),
)


def describe_everyday() -> str:
    """The list as first written, one line per fault (bench/repair.py prints it)."""
    return "\n".join(f"{i:>2}. {f.id}: {f.what}" for i, f in enumerate(EVERYDAY_FAULTS, 1))
