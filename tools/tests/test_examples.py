"""examples/policies/: each example's questions get the answers it records, through the real
`nox -s policy` (the real nox, build and tool), run as its header comment says; `lint` finds
nothing wrong with it; and the README's policy section starts from one of them.

Every example folder holds a commented policy file (policy.yaml, or hosts.yaml for host
entries) whose comment gives the `nox -s policy -- eval ...` line that answers its
requests.jsonl; replies.jsonl holds the answers.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tools.tests.toolkit_fixtures import nox_policy

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "policies"
FOLDERS = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
EVAL_LINE = re.compile(r"^#\s+nox -s policy -- eval (.*)$", re.M)


def policy_file(folder: Path) -> Path:
    return next(p for p in (folder / "policy.yaml", folder / "hosts.yaml") if p.is_file())


def eval_args(folder: Path) -> list[str]:
    """The arguments of the eval line the policy file's comment documents."""
    found = EVAL_LINE.search(policy_file(folder).read_text())
    assert found, f"{folder.name}: its comment gives the eval line"
    line = found.group(1)
    words = shlex.split(line)
    assert words[-2] == "<", line
    assert words[-1] == f"examples/policies/{folder.name}/requests.jsonl", line
    return words[:-2]


def test_the_examples_cover_the_common_cases():
    assert [f.name for f in FOLDERS] == [
        "deny-precedence",
        "egress-tls-sni",
        "header-actions",
        "hosts",
        "http",
        "l3-l4",
    ]
    for folder in FOLDERS:
        assert {"requests.jsonl", "replies.jsonl"} <= {p.name for p in folder.iterdir()}
        text = policy_file(folder).read_text()
        assert text.startswith("# "), f"{folder.name}: the file starts by saying what it shows"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_example_answers_are_the_recorded_ones(folder):
    requests = (folder / "requests.jsonl").read_text()
    proc = nox_policy("eval", *eval_args(folder), stdin=requests)
    assert proc.returncode == 0, proc.stderr
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    want = [json.loads(line) for line in (folder / "replies.jsonl").read_text().splitlines()]
    assert len(got) == len(requests.splitlines())
    assert got == want


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_examples_lint_clean_from_their_own_folder(folder):
    """lint through nox, run from the example's folder: the relative path is the user's."""
    proc = nox_policy("lint", policy_file(folder).name, cwd=folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no problems; Envoy would accept it." in proc.stdout
    assert proc.stderr == "", proc.stderr


def test_readme_policy_section_starts_from_an_example():
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## The policy engine\n", 1)[1].split("\n## ", 1)[0]
    head = section[:1500]
    assert "examples/policies/http/policy.yaml" in head
    assert "nox -s policy -- check --policy examples/policies/http/policy.yaml" in section
