"""`nox -s compat`: print the table, look up a release, `--check` it, `--update` it.

The data, the queries and README.md's table are ``tools.envoy.compat``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence, TextIO

from tools import repo
from tools.cli import Parser
from tools.envoy.compat import (
    DATA_FILE,
    check,
    load,
    lookup,
    releases_with_envoy,
    text_table,
    update,
)
from tools.errors import ToolkitError


def _parser() -> Parser:
    parser = Parser(
        "compat",
        description="Which Envoy version each Cilium release ships (from envoy/cilium-compat.tsv).",
        epilog="examples: nox -s compat | nox -s compat -- 1.16.5 | nox -s compat -- --envoy 1.29 "
        "| nox -s compat -- --check",
    )
    parser.add_argument(
        "cilium",
        nargs="?",
        metavar="CILIUM_VERSION",
        help="print the Envoy version of this Cilium release (e.g. 1.16.5, v1.16.5 or main)",
    )
    parser.add_argument(
        "--envoy",
        metavar="SERIES",
        help="list the Cilium releases that ship this Envoy series (e.g. 1.29) or release (1.29.7)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="fail when README.md's table or ENVOY_VERSION disagree with the data file",
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="read every patch release of Cilium's supported minors and the Envoy its images "
        "carry; rewrite the data file and README.md's table (needs network access)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="with --update: print the changes, write nothing"
    )
    return parser


def main(argv: Sequence[str], *, root: Path | None = None, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    root = root or repo.ROOT
    args = _parser().parse_args(list(argv))
    chosen = [name for name in ("cilium", "envoy", "check", "update") if getattr(args, name)]
    if len(chosen) > 1:
        flags = {"cilium": "CILIUM_VERSION", "envoy": "--envoy", "check": "--check",
                 "update": "--update"}  # fmt: skip
        raise ToolkitError(
            f"nox -s compat -- takes one of CILIUM_VERSION, --envoy, --check or --update; "
            f"got {' and '.join(flags[c] for c in chosen)}.",
            status=2,
        )
    if args.dry_run and not args.update:
        raise ToolkitError("--dry-run goes with --update; add --update or drop it.", status=2)
    if args.update:
        update(root, out, dry_run=args.dry_run)
        return
    if args.check:
        problems = check(root)
        for problem in problems:
            print(f"fail {problem}", file=out)
        if problems:
            raise ToolkitError(
                f"compat --check found {len(problems)} problem(s), listed above; fix them and "
                "run it again."
            )
        print(f"ok   README.md's table and ENVOY_VERSION agree with {DATA_FILE}.", file=out)
        return
    rows = load(root)
    if args.cilium:
        print(lookup(rows, args.cilium).envoy, file=out)
    elif args.envoy:
        out.write(text_table(releases_with_envoy(rows, args.envoy)))
    else:
        out.write(text_table(rows))
