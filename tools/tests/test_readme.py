"""README.md shows the generated tables exactly as the code produces them."""

import ast
import re
from pathlib import Path

import pytest

from tools import docs, readme
from tools.errors import ToolkitError

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("name", sorted(docs.generated_blocks()))
def test_readme_block_is_current(name):
    body = docs.generated_blocks()[name]
    assert readme.read_block(README.read_text(), name) == body, (
        f"README.md's {name} is stale; run `python -m tools.docs`"
    )


def test_readme_module_is_a_leaf():
    """tools.readme imports nothing of the toolkit but files and errors (no compat circle)."""
    tree = ast.parse(Path(readme.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert {m for m in imported if m.startswith("tools")} <= {"tools.errors", "tools.files"}


def test_every_option_is_documented_once():
    from tools.image.settings import OPTIONS

    text = readme.read_block(README.read_text(), "settings-table")
    assert text is not None
    for opt in OPTIONS:
        assert len(re.findall(rf"^\| `{re.escape(opt.flag)}[ `]", text, re.M)) == 1, opt.flag


def test_update_rewrites_only_the_block(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("intro\n<!-- t:begin (generated) -->\nold\n<!-- t:end -->\noutro\n")
    assert readme.update(path, "t", "new\n") is True
    assert path.read_text() == "intro\n<!-- t:begin (generated) -->\nnew\n<!-- t:end -->\noutro\n"
    assert readme.update(path, "t", "new\n") is False
    with pytest.raises(ToolkitError, match="no `<!-- other:begin -->`"):
        readme.update(path, "other", "x")
