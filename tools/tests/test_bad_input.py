"""Bad input: one clear sentence, a non-zero status, nothing written, no docker call that changes state.

The docker CLI is a recording stand-in (see toolkit_fixtures) so we can prove no
state-changing command was sent; git and the checkout are real.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.errors import ToolkitError
from tools.image import build

NOXFILE_DIR = Path(__file__).resolve().parents[2]


def attempt(checkout, fake, session, *args, env=None, dry_run=False):
    argv = [f"--docker={fake.path}", *args] + (["--dry-run"] if dry_run else [])
    with pytest.raises(ToolkitError) as err:
        build.main(
            argv,
            session,
            root=checkout.root,
            environ={**fake.env, **(env or {})},
            out=io.StringIO(),
        )
    assert err.value.status != 0
    assert checkout.written() == [], "a file was written before the mistake was caught"
    assert fake.state_changing_calls() == [], "docker was asked to change state"
    message = err.value.message
    assert "\n" not in message and "Traceback" not in message
    return message


CASES = [
    # (session, args, env, words the sentence must contain)
    ("build", ["--colour=red"], {}, ["unknown option --colour=red", "valid options:", "--arch"]),
    ("build", ["--archh=arm64"], {}, ["did you mean --arch?"]),
    ("build", ["--arch=sparc"], {}, ["--arch `sparc`", "amd64, arm64, multi"]),
    ("build", [], {"ARCH": "ppc64le"}, ["ARCH `ppc64le`", "amd64, arm64, multi"]),
    (
        "tests",
        ["--arch=arm64"],
        {},
        ["tests run only on this host's platform", "drop --arch arm64"],
    ),
    ("tests", [], {"ARCH": "multi"}, ["tests run only on this host's platform"]),
    ("build", ["--cache-push"], {}, ["--cache-push needs --cache-ref"]),
    (
        "build",
        ["--push", "--docker-build-opts=--output=out"],
        {},
        ["--push contradicts `--output=out`"],
    ),
    ("build", ["--docker-build-opts=--load"], {"IMAGE_PUSH": "1"}, ["--push contradicts `--load`"]),
    ("build_multi", ["--docker-build-opts=--load"], {}, ["cannot load a multi-platform image"]),
    ("build", ["--arch=multi", "--no-push"], {}, ["multi-platform image cannot be loaded"]),
    (
        "build",
        ["--debug", "--release-debug"],
        {},
        ["--debug and --release-debug exclude each other"],
    ),
    ("build", ["--no-cache=3"], {}, ["--no-cache `3`", "must be 1"]),
    ("build", [], {"NO_CACHE": "always"}, ["NO_CACHE `always`"]),
    ("build", ["--jobs=0"], {}, ["--jobs `0`", "positive whole number"]),
    ("build", ["--jobs", "many"], {}, ["--jobs `many`"]),
    ("build", [], {"JOBS": "-2"}, ["JOBS `-2`"]),
    (
        "build",
        ["--dev-account=Quay.io/Cilium/"],
        {},
        ["--dev-account `Quay.io/Cilium/` is not a valid image reference"],
    ),
    ("build", ["--archive-image=me/Archive:1"], {}, ["--archive-image `me/Archive:1`"]),
    ("build", [], {"BUILDER_BASE": "a b"}, ["--builder-base `a b`"]),
    ("build", ["--tag=docker.io/me/envoy:bad tag"], {}, ["--tag `docker.io/me/envoy:bad tag`"]),
    (
        "archive",
        ["--builder-archive-tag=-x"],
        {},
        ["--builder-archive-tag `-x` is not a valid image tag"],
    ),
    ("build", ["--cache-ref=not a ref"], {}, ["--cache-ref `not a ref`"]),
    ("build", ["--bazel-build-opts=--copt='-O2"], {}, ["cannot be split like a shell would"]),
    ("build", ["--docker-build-opts=--platform=linux/s390x"], {}, ["use --arch instead"]),
    ("build", ["--docker-build-opts=-t x"], {}, ["use --tag instead"]),
    ("build_multi", ["--arch=arm64"], {}, ["build_multi always builds both platforms"]),
    ("build", ["--push=maybe"], {}, ["--push `maybe`"]),
    # Upper-case repository names and non-ASCII tags (Docker refuses both).
    ("build", ["--tag=Me/envoy:1"], {}, ["--tag `Me/envoy:1` is not a valid image reference"]),
    ("build", ["--tag=docker.io/me/envoy:ü"], {}, ["--tag `docker.io/me/envoy:ü`"]),
    ("build", ["--archive-image=Me/archive:1"], {}, ["--archive-image `Me/archive:1`"]),
    ("build", ["--no-archive", "--archive-image=me/Archive:1"], {}, ["--archive-image"]),
    ("build", ["--builder-base=quay.io/Cilium/b:1"], {}, ["--builder-base `quay.io/Cilium/b:1`"]),
    ("build", ["--builder-base-tag=é"], {}, ["--builder-base-tag `é` is not a valid image tag"]),
    # Remote caches Bazel would refuse.
    (
        "build",
        ["--bazel-remote-cache=ftp://cache:21"],
        {},
        ["--bazel-remote-cache `ftp://cache:21`", "grpc://", "host:port"],
    ),  # fmt: skip
    ("tests", [], {"BAZEL_REMOTE_CACHE": "cache"}, ["BAZEL_REMOTE_CACHE `cache`"]),
    ("build", ["--bazel-remote-cache=http://u:pw@"], {}, ["`http://***@` is not valid"]),
    ("build", ["--bazel-remote-cache=https://h:99999"], {}, ["`https://h:99999` is not valid"]),
    ("build", ["--bazel-remote-cache=grpcs://h:1 x"], {}, ["`grpcs://h:1 x` is not valid"]),
    ("build", ["--bazel-remote-cache=unix://"], {}, ["`unix://` is not valid"]),
    ("build", ["--bazel-remote-cache=cache:70000"], {}, ["`cache:70000` is not valid"]),
    # Remote execution: the same rules as the cache (but no HTTP), and what goes with it.
    (
        "build",
        ["--bazel-remote-executor=https://rbe:443"],
        {},
        ["--bazel-remote-executor `https://rbe:443`", "not a remote executor", "grpc://"],
    ),  # fmt: skip
    ("build", [], {"BAZEL_REMOTE_EXECUTOR": "rbe"}, ["BAZEL_REMOTE_EXECUTOR `rbe`"]),
    ("build", ["--bazel-remote-executor=grpcs://u:pw@"], {}, ["`grpcs://***@` is not valid"]),
    ("build", ["--bazel-remote-executor=grpc://h:99999"], {}, ["`grpc://h:99999` is not valid"]),
    (
        "build",
        ["--bazel-remote-instance-name=main"],
        {},
        ["--bazel-remote-instance-name needs --bazel-remote-executor URL or --bazel-remote-cache"],
    ),  # fmt: skip
    (
        "build",
        ["--bazel-remote-header=x-api-key=k"],
        {},
        ["--bazel-remote-header needs --bazel-remote-executor URL"],
    ),  # fmt: skip
    (
        "build",
        ["--bazel-remote-executor=grpc://rbe:8980", "--bazel-remote-instance-name=a b"],
        {},
        ["--bazel-remote-instance-name `a b` is not valid"],
    ),  # fmt: skip
    (
        "build",
        ["--bazel-remote-cache=grpc://c:1", "--bazel-remote-header=no-value"],
        {},
        ["--bazel-remote-header `***` is not valid", "NAME=VALUE"],
    ),  # fmt: skip
    (
        "build",
        ["--bazel-remote-cache=grpc://c:1"],
        {"BAZEL_REMOTE_HEADER": "authorization=Bearer t0ken"},
        ["BAZEL_REMOTE_HEADER `authorization=***` is not valid", "NAME=VALUE"],
    ),  # fmt: skip
    (
        "builder",
        ["--bazel-remote-executor=grpc://rbe:1"],
        {},
        ["does not apply to `nox -s builder`"],
    ),
    # Options that do not apply to the session.
    ("builder", ["--debug"], {}, ["--debug does not apply to `nox -s builder`", "drop it"]),
    ("tests", ["--push"], {}, ["--push does not apply to `nox -s tests`"]),
    ("tests", ["--cache-push"], {}, ["--cache-push does not apply to `nox -s tests`"]),
    ("tests", ["--release-debug"], {}, ["--release-debug does not apply to `nox -s tests`"]),
    ("builder", ["--bazel-build-opts=--jobs=2"], {}, ["--bazel-build-opts does not apply"]),
    ("build", ["--bazel-test-opts=--x"], {}, ["--bazel-test-opts does not apply", "tests"]),
]


@pytest.mark.parametrize(
    "session,args,env,words", CASES, ids=[" ".join([c[0], *c[1], *c[2]]) for c in CASES]
)
def test_bad_input(checkout, fake_docker, session, args, env, words):
    for dry_run in (False, True):
        message = attempt(checkout, fake_docker, session, *args, env=env, dry_run=dry_run)
        for word in words:
            assert word in message


@pytest.mark.parametrize("arch", ["amd64", "multi"])
def test_arm64_host_cannot_build_amd64(checkout, fake_docker, monkeypatch, arch):
    monkeypatch.setattr("tools.image.settings.host_arch", lambda: "arm64")
    message = attempt(checkout, fake_docker, "build", f"--arch={arch}")
    assert f"--arch {arch} cannot be built on an arm64 host" in message


def test_missing_bazelversion(checkout, fake_docker):
    (checkout.root / ".bazelversion").unlink()
    assert ".bazelversion is missing" in attempt(checkout, fake_docker, "build")


def test_malformed_envoy_version(checkout, fake_docker):
    (checkout.root / "ENVOY_VERSION").write_text("1.32.3\n")
    assert "ENVOY_VERSION holds `1.32.3`; it must look like `envoy-1.32.3`" in attempt(
        checkout, fake_docker, "build"
    )


def test_not_a_git_checkout(checkout, fake_docker):
    subprocess.run(["rm", "-rf", str(checkout.root / ".git")], check=True)
    assert "is not a git checkout" in attempt(checkout, fake_docker, "build")


def test_docker_cli_not_found(checkout, fake_docker, tmp_path):
    with pytest.raises(ToolkitError) as err:
        build.main(
            ["--docker", str(tmp_path / "nope" / "docker")],
            "build",
            root=checkout.root,
            environ=fake_docker.env,
        )
    assert "was not found; install Docker or pass --docker" in err.value.message
    assert checkout.written() == []


def test_settings_file_mistakes(checkout, fake_docker):
    settings = checkout.root / "nox-settings.toml"
    settings.write_text("arch = 'arm64\n")
    assert "nox-settings.toml is not valid TOML" in attempt(checkout, fake_docker, "build")
    settings.write_text("colour = 'red'\n")
    assert "unknown key `colour`" in attempt(checkout, fake_docker, "build")
    settings.write_text("debug = 'yes'\n")
    assert "nox-settings.toml key debug `yes` is not valid: it must be true or false" in attempt(
        checkout, fake_docker, "build"
    )


def _nox(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(NOXFILE_DIR / "noxfile.py"), *args],
        capture_output=True, text=True, env=full_env, cwd=NOXFILE_DIR, check=False,
    )  # fmt: skip


def test_through_nox_no_traceback_and_nonzero_exit():
    """The real nox entry point turns a mistake into its one sentence and exit status 1."""
    proc = _nox("-s", "build", "--", "--arch=sparc", "--dry-run")
    assert proc.returncode == 1
    output = proc.stdout + proc.stderr
    assert "--arch `sparc` is not valid: it must be one of amd64, arm64, multi" in output
    assert "Traceback" not in output


def test_help_ends_the_session_successfully_and_lets_others_run():
    proc = _nox("-s", "build", "tests", "--", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("usage: nox -s build --") == 1
    assert proc.stdout.count("usage: nox -s tests --") == 1
    assert "--bazel-build-opts OPTS" in proc.stdout


def test_credentials_in_a_remote_cache_url_are_never_printed(checkout, fake_docker):
    message = attempt(checkout, fake_docker, "build", "--bazel-remote-cache=ftp://me:s3cret@c:1")
    assert "s3cret" not in message and "ftp://***@c:1" in message
    out = io.StringIO()
    build.main(["--dry-run", f"--docker={fake_docker.path}",
                "--bazel-remote-cache=https://me:s3cret@cache.example:443"], "build",
               root=checkout.root, environ=fake_docker.env, out=out)  # fmt: skip
    assert "s3cret" not in out.getvalue() and "https://***@cache.example:443" in out.getvalue()
    # host:port with credentials (not a form Bazel takes) is refused without showing them
    message = attempt(checkout, fake_docker, "build", "--bazel-remote-cache=me:s3cret@c:443")
    assert "s3cret" not in message and "`***@c:443` is not valid" in message


def test_empty_environment_variables_mean_unset(checkout, fake_docker):
    def plan(env):
        out = io.StringIO()
        bp = build.main(["--dry-run", f"--docker={fake_docker.path}"], "build", root=checkout.root,
                        environ={**fake_docker.env, **env}, out=out)  # fmt: skip
        return bp.plan.steps[-1].argv

    assert plan({"ARCH": "", "JOBS": "", "NO_CACHE": "", "IMAGE_PUSH": ""}) == plan({})


def test_settings_file_keys_are_the_flag_names(checkout, fake_docker):
    settings = checkout.root / "nox-settings.toml"
    settings.write_text('dev_account = "docker.io/me"\n')
    assert "unknown key `dev_account`; did you mean `dev-account`?" in attempt(
        checkout, fake_docker, "build"
    )
    settings.write_text('dev-acount = "docker.io/me"\n')
    assert "did you mean `dev-account`?" in attempt(checkout, fake_docker, "build")
    settings.write_text('tag = "docker.io/me/envoy:x"\n')
    assert "cannot set `tag`; pass --tag on the command line" in attempt(
        checkout, fake_docker, "build"
    )
    settings.write_text('dev-account = "docker.io/me"\njobs = 4\n')
    out = io.StringIO()
    build.main(["--dry-run", f"--docker={fake_docker.path}"], "build", root=checkout.root,
               environ=fake_docker.env, out=out)  # fmt: skip
    assert "# from nox-settings.toml: jobs, dev-account" in out.getvalue()


def test_branch_that_makes_no_valid_tag(checkout, fake_docker):
    checkout.switch("ü-x")  # "--x": a tag cannot start with "-"
    message = attempt(checkout, fake_docker, "build")
    assert "computed from branch `ü-x`" in message and "cannot start with" in message
    assert "shorter" not in message


def test_remote_header_values_are_never_printed(checkout, fake_docker):
    """Refused or planned, a header's value (an API key) never shows."""
    secret = "k3y-s3cret"
    message = attempt(checkout, fake_docker, "build", "--bazel-remote-cache=grpc://c:1",
                      f"--bazel-remote-header=x api={secret}")  # fmt: skip
    assert secret not in message and "`x api=***` is not valid" in message
    message = attempt(checkout, fake_docker, "build", "--bazel-remote-cache=grpc://c:1",
                      f"--bazel-remote-header=x-api-key={secret} with space")  # fmt: skip
    assert secret not in message
    out = io.StringIO()
    build.main(["--dry-run", f"--docker={fake_docker.path}", "--bazel-remote-executor=grpcs://rbe:443",
                f"--bazel-remote-header=x-buildbuddy-api-key={secret}"], "build",
               root=checkout.root, environ=fake_docker.env, out=out)  # fmt: skip
    assert secret not in out.getvalue()
    assert "--remote_header=x-buildbuddy-api-key=***" in out.getvalue()
