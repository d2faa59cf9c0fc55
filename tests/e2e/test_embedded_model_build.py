"""The embedded model's rebuild script (tools/build_embedded_model.py) trains deterministically: the shipped
weights' other properties are tests/unit/test_embedded_model.py."""

from __future__ import annotations

from tests.support.tools import tool


def test_the_build_is_deterministic(tmp_path):
    """Two builds (a few steps each) give byte-identical weights and tokenizers."""
    build = tool("build_embedded_model")
    for name in ("a", "b"):
        build.build(tmp_path / name, steps=3)
    for file in ("model.safetensors", "tokenizer.json", "recipe.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
