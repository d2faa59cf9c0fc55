"""The check runner and the proof: a check runs in its own limited process from inside the run folder with
no secrets, every failure names the item, and a check that says yes (or no) to everything is not proven."""

from __future__ import annotations

import os
import time

import pytest

from rl_agent.kit.planning.recipes import (
    CheckItem,
    CheckPathError,
    CheckRunError,
    prove_check,
    run_check,
    score_outputs,
)

ITEMS = [CheckItem("q1", "good answer"), CheckItem("q2", "bad answer", "ref"), CheckItem("q3", "good again")]


def write(run_dir, body: str, name: str = "check.py"):
    path = run_dir / name
    path.write_text(body, encoding="utf-8")
    return path


def test_scores_come_back_in_order_and_prints_do_not_corrupt_them(tmp_path):
    write(
        tmp_path,
        "import sys\n"
        "def check(prompt, output, reference=None):\n"
        "    print('noise', output)\n"
        '    sys.stdout.write(\'{"i": 99, "score": 1.0}\\n\')\n'
        "    return None if reference else (1.0 if output.startswith('good') else 0.0)\n",
    )
    assert run_check(tmp_path, "check.py", ITEMS) == [1.0, None, 1.0]
    assert run_check(tmp_path, "check.py", []) == []


@pytest.mark.parametrize(
    "body,expected",
    [
        ("def check(p, o, r=None):\n    return 'yes'\n", r"item 0 \(prompt 'q1'.*not a float"),
        ("def check(p, o, r=None):\n    return 1.5 if p == 'q2' else 1.0\n", "returned 1.5 on item 1"),
        ("def check(p, o, r=None):\n    return float('nan')\n", "returned nan on item 0"),
        (
            "def check(p, o, r=None):\n    if p == 'q3':\n        raise KeyError('boom')\n    return 1.0\n",
            "item 2 .*raised KeyError",
        ),
        (
            "def check(p, o, r=None):\n    import os\n    if p == 'q2':\n        os._exit(3)\n    return 1.0\n",
            "exit code 3\\) on item 1",
        ),
        ("def check(p, o):\n    return 1.0\n", "item 0 .*raised TypeError"),
        ("def check(p, o, r=None)\n    return 1.0\n", "could not be loaded: SyntaxError"),
        ("def judge(p, o, r=None):\n    return 1.0\n", "no function named check"),
        (
            "def check(p, o, r=None):\n    if p == 'q2':\n        x = bytearray(2 * 1024 ** 3)\n    return 1.0\n",
            "item 1 .*MemoryError",
        ),
    ],
)
def test_a_broken_check_is_a_clear_error_naming_the_item(tmp_path, body, expected):
    write(tmp_path, body)
    with pytest.raises(CheckRunError, match=expected):
        run_check(tmp_path, "check.py", ITEMS, memory_mb=256)


def test_a_check_that_hangs_times_out_on_the_item_it_hung_on(tmp_path):
    write(tmp_path, "def check(p, o, r=None):\n    while p == 'q2':\n        pass\n    return 1.0\n")
    start = time.monotonic()
    with pytest.raises(CheckRunError, match="timed out .* on item 1 "):
        run_check(tmp_path, "check.py", ITEMS, timeout_s=1.0)
    assert time.monotonic() - start < 15


def test_the_check_sees_no_secret_and_runs_in_the_run_folder(tmp_path, monkeypatch):
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "GITHUB_TOKEN", "MY_SERVICE_KEY", "DB_PASSWORD"):
        monkeypatch.setenv(name, "sk-secret-value")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    write(
        tmp_path,
        "import os, sys\n"
        "def check(p, o, r=None):\n"
        "    leaked = any('sk-secret-value' in v for v in os.environ.values())\n"
        "    here = os.getcwd() == o\n"
        "    isolated = sys.flags.isolated == 1\n"
        "    return 1.0 if (not leaked and here and isolated) else 0.0\n",
    )
    assert run_check(tmp_path, "check.py", [CheckItem("q", os.path.realpath(tmp_path))]) == [1.0]


def test_only_a_check_inside_the_run_folder_runs(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    outside = write(tmp_path, "def check(p, o, r=None):\n    return 1.0\n", "outside.py")
    (run_dir / "link.py").symlink_to(outside)
    for path in (outside, "../outside.py", "link.py", run_dir / "sub" / ".." / ".." / "outside.py"):
        with pytest.raises(CheckPathError, match="only from inside the run folder"):
            run_check(run_dir, path, ITEMS)
    with pytest.raises(CheckPathError, match="no such check program"):
        run_check(run_dir, "missing.py", ITEMS)


def _examples(n_good=5, n_bad=5):
    good = [CheckItem(f"g{i}", f"GOOD {i}") for i in range(n_good)]
    bad = [CheckItem(f"b{i}", f"bad {i}") for i in range(n_bad)]
    return good, bad


def test_the_proof_passes_a_right_check_and_lists_what_a_wrong_one_gets_wrong(tmp_path):
    good, bad = _examples()
    write(tmp_path, "def check(p, o, r=None):\n    return 1.0 if o.isupper() else 0.0\n")
    assert prove_check(tmp_path, "check.py", good, bad).passed
    write(tmp_path, "def check(p, o, r=None):\n    return 1.0\n", "yes.py")  # says yes to everything
    proof = prove_check(tmp_path, "yes.py", good, bad)
    assert not proof.passed and [(f.kind, f.index) for f in proof.failures] == [("bad", i) for i in range(5)]
    assert "bad example 0 scored 1.00, needs <= 0.1: prompt 'b0', output 'bad 0'" in proof.message()
    write(tmp_path, "def check(p, o, r=None):\n    return 0.0 if o.endswith('3') else 1.0\n", "inverted.py")
    proof = prove_check(tmp_path, "inverted.py", good, bad)
    assert [(f.kind, f.index) for f in proof.failures] == [("good", 3)] + [("bad", i) for i in (0, 1, 2, 4)]
    write(tmp_path, "def check(p, o, r=None):\n    return None\n", "unsure.py")  # cannot grade: not proven
    assert len(prove_check(tmp_path, "unsure.py", good, bad).failures) == 10


def test_the_proof_needs_five_examples_of_each_kind(tmp_path):
    good, bad = _examples(4, 5)
    write(tmp_path, "def check(p, o, r=None):\n    return 1.0 if o.isupper() else 0.0\n")
    proof = prove_check(tmp_path, "check.py", good, bad)
    assert not proof.passed and "only 4 good examples" in proof.message()


def test_score_outputs_says_when_the_base_model_already_passes(tmp_path):
    write(tmp_path, "def check(p, o, r=None):\n    return None if o == '?' else (1.0 if o.isupper() else 0.0)\n")
    some = score_outputs(tmp_path, "check.py", [CheckItem("q", o) for o in ("A", "b", "c", "?")])
    assert (some.graded, round(some.pass_rate, 3), some.already_passes()) == (3, 0.333, False)
    most = score_outputs(tmp_path, "check.py", [CheckItem("q", o) for o in ("A", "B", "C", "D", "e")])
    assert most.pass_rate == 0.8 and most.already_passes()
    assert not score_outputs(tmp_path, "check.py", [CheckItem("q", "?")]).already_passes()
