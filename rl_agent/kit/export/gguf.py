"""GGUF export through llama.cpp's own converter (convert_hf_to_gguf.py), when it is installed.

Decision: llama.cpp ships its Hugging Face -> GGUF converter as a script in its repository, not as a PyPI
package. The `gguf` package on PyPI (the extra `rl-agent[gguf]`) is only the file-format library the
script imports; it does not contain the script. So rl-agent looks for the script in a llama.cpp checkout
named by LLAMA_CPP_DIR (or `--llama-cpp DIR`), or on PATH, and otherwise stops with a message saying
exactly what to install. It never downloads anything itself.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rl_agent.errors import RlAgentError

SCRIPT = "convert_hf_to_gguf.py"
INSTALL_HINT = (
    "GGUF export needs llama.cpp's converter, which is not on PyPI: clone llama.cpp "
    "(git clone https://github.com/ggml-org/llama.cpp), install its converter requirements "
    "(pip install -r llama.cpp/requirements/requirements-convert_hf_to_gguf.txt, or at least "
    'pip install "rl-agent[gguf]" for the gguf library), then set LLAMA_CPP_DIR=/path/to/llama.cpp '
    "(or pass --llama-cpp DIR) and re-run the export"
)


class GGUFError(RlAgentError, RuntimeError):
    """The converter is missing or failed; the message says what to do."""


def find_converter(llama_cpp_dir: str | Path | None = None) -> Path | None:
    """The converter script: in the given or $LLAMA_CPP_DIR checkout, else on PATH; None when absent."""
    for root in (llama_cpp_dir, os.environ.get("LLAMA_CPP_DIR")):
        if root and (Path(root).expanduser() / SCRIPT).is_file():
            return Path(root).expanduser() / SCRIPT
    for name in (SCRIPT, "convert-hf-to-gguf"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def export_gguf(
    merged_dir: Path, out_file: Path, *, outtype: str = "f16", llama_cpp_dir: str | Path | None = None
) -> Path:
    """Convert a merged model folder to one .gguf file; GGUFError with the install hint when impossible."""
    script = find_converter(llama_cpp_dir)
    if script is None:
        raise GGUFError(INSTALL_HINT)
    if importlib.util.find_spec("gguf") is None:
        raise GGUFError(
            f'found {script}, but the `gguf` Python package is missing: pip install "rl-agent[gguf]" '
            "(or the requirements file in the llama.cpp checkout)"
        )
    cmd = [sys.executable, str(script), str(merged_dir), "--outfile", str(out_file), "--outtype", outtype]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not Path(out_file).is_file():
        tail = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        raise GGUFError(f"llama.cpp's converter failed (exit {proc.returncode}): {tail[-1] if tail else 'no output'}")
    return Path(out_file)
