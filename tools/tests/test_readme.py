"""README.md shows the generated tables exactly as the code produces them."""

import re
from pathlib import Path

import pytest

from tools import readme
from tools.errors import ToolkitError

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("name", sorted(readme.generated_blocks()))
def test_readme_block_is_current(name):
    body = readme.generated_blocks()[name]
    assert readme.read_block(README.read_text(), name) == body, (
        f"README.md's {name} is stale; run `python -m tools.readme`"
    )


def test_every_option_is_documented_once():
    from tools.settings import OPTIONS

    text = readme.read_block(README.read_text(), "settings-table")
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
