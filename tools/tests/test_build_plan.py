"""The build command contract: whole argv per session, branch, flag and env form.

The docker CLI is a recording stand-in (see toolkit_fixtures) so the exact argv
can be compared; git and the checkout are real.
"""

from __future__ import annotations

import io
import shlex
import subprocess

import pytest

from tools.errors import ToolkitError
from tools.image import build, docker, resources
from tools.tests.toolkit_fixtures import BAZEL_VERSION

ACCT = "quay.io/cilium"


def dry(checkout, fake, session, *args, env=None):
    out = io.StringIO()
    argv = ["--dry-run", f"--docker={fake.path}", *args]
    bp = build.main(argv, session, root=checkout.root, environ={**fake.env, **(env or {})}, out=out)
    return bp, out.getvalue()


def build_argv(bp):
    return list(bp.plan.steps[-1].argv)


def commands(text):
    """The plan's shell lines that are docker commands (not comments, files or folders)."""
    return [
        shlex.split(line)
        for line in text.splitlines()
        if line
        and not line.startswith(("#", "printf ", "python3 -m tools.dockerignore", "mkdir -p "))
    ]


def host():
    from tools.image.settings import host_arch

    return host_arch()


def base_args(checkout, session="build"):
    builder = f"{ACCT}/cilium-envoy-builder:{BAZEL_VERSION}-{checkout.builder_blob}"
    return ["--build-arg", f"BUILDER_BASE={builder}"]


def meta(session):
    return f"--metadata-file=.nox/cilium-envoy/{session}.metadata.json"


def test_build_on_main_host_arch(checkout, fake_docker):
    bp, text = dry(checkout, fake_docker, "build")
    sha = checkout.head
    assert build_argv(bp) == [
        str(fake_docker.path), "buildx", "build",
        *base_args(checkout),
        "--build-arg", f"ARCHIVE_IMAGE={ACCT}/cilium-envoy-builder:main-archive-latest",
        "--build-arg", "BAZEL_BUILD_OPTS=",
        "-t", f"{ACCT}/cilium-envoy:{sha}-{host()}",
        "-t", f"{ACCT}/cilium-envoy:latest-{host()}",
        "--load", meta("build"), ".",
    ]  # fmt: skip
    assert len(bp.plan.steps) == 1
    # The printed line is the same command, ready to paste.
    assert shlex.split(text.splitlines()[-1]) == build_argv(bp)
    assert commands(text) == [build_argv(bp)]
    # Dry run: nothing written, only read-only docker queries.
    assert checkout.written() == []
    assert fake_docker.state_changing_calls() == []


@pytest.mark.parametrize("form", ["flag", "flag-space", "env", "env-alias", "file"])
def test_arm64_on_feature_branch(checkout, fake_docker, form):
    checkout.switch("feature/policy+x")
    args, env = [], {}
    if form == "flag":
        args = ["--arch=arm64"]
    elif form == "flag-space":
        args = ["--arch", "arm64"]
    elif form == "env":
        env = {"ARCH": "arm64"}
    elif form == "env-alias":
        env = {"ARCH": "aarch64"}
    else:
        (checkout.root / "nox-settings.toml").write_text('arch = "arm64"\n')
    bp, _ = dry(checkout, fake_docker, "build", *args, env=env)
    sha = checkout.head
    assert build_argv(bp) == [
        str(fake_docker.path), "buildx", "build",
        "--platform=linux/arm64",
        *base_args(checkout),
        "--build-arg", f"ARCHIVE_IMAGE={ACCT}/cilium-envoy-builder:main-archive-latest",
        "--build-arg", "BAZEL_BUILD_OPTS=",
        "-t", f"{ACCT}/cilium-envoy-dev:feature-policy-x-arm64",
        "-t", f"{ACCT}/cilium-envoy-dev:{sha}-arm64",
        "--load", meta("build"), ".",
    ]  # fmt: skip


def test_precedence_flag_env_file_default(checkout, fake_docker):
    (checkout.root / "nox-settings.toml").write_text(
        'dev-account = "docker.io/file"\ndebug = true\n'
    )
    bp, _ = dry(checkout, fake_docker, "build")
    assert bp.tags[0].startswith("docker.io/file/cilium-envoy:") and bp.tags[0].endswith("-debug")
    bp, _ = dry(
        checkout, fake_docker, "build", env={"DOCKER_DEV_ACCOUNT": "docker.io/env", "DEBUG": "0"}
    )
    assert bp.tags[0].startswith("docker.io/env/") and not bp.tags[0].endswith("-debug")
    bp, _ = dry(checkout, fake_docker, "build", "--dev-account", "ghcr.io/flag", "--no-debug",
                env={"DOCKER_DEV_ACCOUNT": "docker.io/env", "DEBUG": "1"})  # fmt: skip
    assert bp.tags[0].startswith("ghcr.io/flag/") and "-debug" not in bp.tags[0]
    assert ("DEBUG", "1") not in _build_args(bp)


def _build_args(bp):
    argv = build_argv(bp)
    return [tuple(argv[i + 1].split("=", 1)) for i, a in enumerate(argv) if a == "--build-arg"]


@pytest.mark.parametrize("value,on", [("1", True), ("yes", True), ("anything", True), ("", False),
                                      ("0", False), ("false", False), ("no", False), ("FALSE", False)])  # fmt: skip
def test_boolean_environment_words(checkout, fake_docker, value, on):
    bp, _ = dry(checkout, fake_docker, "build", env={"DEBUG": value})
    assert (("DEBUG", "1") in _build_args(bp)) is on


def test_build_multi_creates_own_builder_once_and_pushes(checkout, fake_docker):
    bp, text = dry(checkout, fake_docker, "build_multi")
    create, step = bp.plan.steps
    assert list(create.argv) == [
        str(fake_docker.path),
        "buildx",
        "create",
        "--name",
        "cilium-envoy",
        "--driver",
        "docker-container",
    ]
    sha = checkout.head
    assert list(step.argv) == [
        str(fake_docker.path), "buildx", "build", "--builder", "cilium-envoy",
        "--platform=linux/arm64,linux/amd64",
        *base_args(checkout),
        "--build-arg", f"ARCHIVE_IMAGE={ACCT}/cilium-envoy-builder:main-archive-latest",
        "--build-arg", "BAZEL_BUILD_OPTS=--jobs=HOST_CPUS*.5",
        "-t", f"{ACCT}/cilium-envoy:{sha}",
        "-t", f"{ACCT}/cilium-envoy:latest",
        "--push", meta("build_multi"), ".",
    ]  # fmt: skip
    assert "--use" not in create.argv  # never switch the user's current builder
    # Both lines are printed, ready to paste.
    assert commands(text) == [list(create.argv), list(step.argv)]
    # Once it exists it is reused, not created again.
    fake_docker.configure(builders={"default": "docker", "cilium-envoy": "docker-container"})
    bp, _ = dry(checkout, fake_docker, "build", "--arch=multi")
    assert len(bp.plan.steps) == 1 and build_argv(bp)[3:5] == ["--builder", "cilium-envoy"]


def test_multi_uses_current_container_builder(checkout, fake_docker):
    fake_docker.configure(current="mine", builders={"mine": "docker-container"})
    bp, _ = dry(checkout, fake_docker, "build", "--arch", "multi")
    assert len(bp.plan.steps) == 1
    assert build_argv(bp)[3:5] == ["--builder", "mine"]


def test_explicit_builder_from_env_needs_no_inspect(checkout, fake_docker):
    bp, _ = dry(checkout, fake_docker, "build_multi", env={"BUILDX_BUILDER": "remote-arm"})
    assert build_argv(bp)[3:5] == ["--builder", "remote-arm"]
    assert not [c for c in fake_docker.calls if c[:2] == ["buildx", "inspect"]]


def test_single_platform_keeps_current_builder_without_inspect(checkout, fake_docker):
    bp, _ = dry(checkout, fake_docker, "build", "--arch", "arm64")
    assert "--builder" not in build_argv(bp)
    assert not [c for c in fake_docker.calls if c[:2] == ["buildx", "inspect"]]


def test_buildkit_image_goes_to_created_builder(checkout, fake_docker):
    bp, _ = dry(checkout, fake_docker, "build", "--buildkit-image", "moby/buildkit:v0.17.0")
    assert list(bp.plan.steps[0].argv)[-2:] == ["--driver-opt", "image=moby/buildkit:v0.17.0"]
    assert build_argv(bp)[3:5] == ["--builder", "cilium-envoy"]


def test_raspi(checkout, fake_docker):
    bp, _ = dry(checkout, fake_docker, "raspi", "--bazel-build-opts=--config=foo", "--jobs", "3")
    args = dict(_build_args(bp))
    assert args["BAZEL_BUILD_OPTS"] == "--define tcmalloc=gperftools --config=foo --jobs=3"
    assert "--platform=linux/arm64" in build_argv(bp)
    assert bp.tags == (
        f"{ACCT}/cilium-envoy:{checkout.head}-arm64-raspi",
        f"{ACCT}/cilium-envoy:latest-arm64-raspi",
    )
    # ARCH in the environment does not fight the session; a flag does.
    bp, _ = dry(checkout, fake_docker, "raspi", env={"ARCH": "amd64"})
    assert "--platform=linux/arm64" in build_argv(bp)
    with pytest.raises(ToolkitError, match="raspi always builds arm64; drop --arch amd64"):
        dry(checkout, fake_docker, "raspi", "--arch=amd64")


def test_builder_session(checkout, fake_docker):
    blob = checkout.builder_blob
    bp, _ = dry(checkout, fake_docker, "builder", "--no-cache")
    # Dockerfile.builder declares no BUILDER_BASE, DEBUG or NO_CACHE: none is passed.
    assert build_argv(bp) == [
        str(fake_docker.path), "buildx", "build", "-f", "Dockerfile.builder",
        "--no-cache",
        "-t", f"{ACCT}/cilium-envoy-builder:{BAZEL_VERSION}-{blob}",
        "--load", meta("builder"), ".",
    ]  # fmt: skip
    bp, _ = dry(checkout, fake_docker, "builder", "--builder-base-tag=custom", "--arch", "multi")
    assert bp.tags == (f"{ACCT}/cilium-envoy-builder:custom",)
    assert "--push" in build_argv(bp)


def test_archive_session(checkout, fake_docker):
    bp, _ = dry(
        checkout, fake_docker, "archive", "--arch=amd64", "--builder-archive-tag", "my-archive"
    )
    assert build_argv(bp) == [
        str(fake_docker.path), "buildx", "build", "--target", "builder-archive",
        "--platform=linux/amd64",
        *base_args(checkout),
        "--build-arg", f"ARCHIVE_IMAGE={ACCT}/cilium-envoy-builder:my-archive",
        "--build-arg", "BAZEL_BUILD_OPTS=",
        "--build-arg", "COPY_CACHE_EXT=.new",
        "-t", f"{ACCT}/cilium-envoy-builder:my-archive",
        "--load", meta("archive"), ".",
    ]  # fmt: skip


def test_tests_session(checkout, fake_docker):
    checkout.switch("pr/1")
    bp, _ = dry(checkout, fake_docker, "tests", "--bazel-test-opts=--test_timeout=300",
                "--bazel-remote-cache", "grpc://cache:9092", "--no-archive",
                env={"IMAGE_PUSH": "1"})  # fmt: skip
    assert build_argv(bp) == [
        str(fake_docker.path), "buildx", "build", "-f", "Dockerfile.tests", "--progress=plain",
        *base_args(checkout),
        "--build-arg", "BAZEL_BUILD_OPTS=--remote_cache=grpc://cache:9092",
        "--build-arg", "BAZEL_TEST_OPTS=--test_timeout=300 --remote_cache=grpc://cache:9092 --test_output=errors",
        "-t", f"{ACCT}/cilium-envoy-dev:pr-1-{host()}-testlogs",
        "--load", meta("tests"), ".",
    ]  # fmt: skip
    assert any("ignored IMAGE_PUSH: does not apply to tests" in n for n in bp.plan.notes)


def test_tests_default_options_and_release_tag(checkout, fake_docker):
    bp, _ = dry(checkout, fake_docker, "tests", "--debug")
    args = dict(_build_args(bp))
    # Bazel evaluates HOST_RAM on the machine that builds.
    assert args["BAZEL_TEST_OPTS"].split() == [
        "--jobs=HOST_RAM*.0002",
        "--test_timeout=100",
        "--local_test_jobs=1",
        "--flaky_test_attempts=3",
        "--test_output=errors",
    ]
    assert args["ARCHIVE_IMAGE"] == f"{ACCT}/cilium-envoy-builder:test-main-archive-latest"
    assert bp.tags == (f"{ACCT}/cilium-envoy:latest-{host()}-debug-testlogs",)
    # The summary shows the test options, not "Bazel options: (none)" beside them.
    text = build.summary(bp, 1.0, None)
    assert "Bazel options: (none)" not in text
    assert f"Bazel test options: {args['BAZEL_TEST_OPTS']}" in text
    plain, _ = dry(checkout, fake_docker, "build")
    assert "Bazel options: (none)" in build.summary(plain, 1.0, None)


def test_tests_archive_session(checkout, fake_docker):
    bp, _ = dry(checkout, fake_docker, "tests_archive", env={"TESTS_ARCHIVE_TAG": "t-arch"})
    argv = build_argv(bp)
    assert argv[3:7] == ["-f", "Dockerfile.tests", "--target", "builder-archive"]
    assert ("COPY_CACHE_EXT", ".new") in _build_args(bp)
    assert ("ARCHIVE_IMAGE", f"{ACCT}/cilium-envoy-builder:t-arch") in _build_args(bp)
    assert bp.tags == (f"{ACCT}/cilium-envoy-builder:t-arch",)


def test_registry_cache_import_and_export(checkout, fake_docker):
    ref = "docker.io/me/cilium-proxy:cache"
    bp, _ = dry(checkout, fake_docker, "build", f"--cache-ref={ref}", env={"CACHE_PUSH": "1"})
    argv = build_argv(bp)
    assert f"--cache-from=type=registry,ref={ref}" in argv
    assert f"--cache-to=type=registry,ref={ref},mode=max" in argv
    assert argv[3:5] == ["--builder", "cilium-envoy"]  # the docker driver cannot export caches
    bp, _ = dry(checkout, fake_docker, "build", f"--cache-ref={ref}", "--no-cache")
    argv = build_argv(bp)
    assert not any(a.startswith("--cache-from") for a in argv)
    assert ("NO_CACHE", "1") in _build_args(bp) and "--no-cache" not in argv
    bp, _ = dry(checkout, fake_docker, "build", "--no-cache=2")
    assert ("NO_CACHE", "2") in _build_args(bp) and "--no-cache" in build_argv(bp)


@pytest.mark.parametrize("opts", ["--output=out", "-o out", "-oout", "--output type=local,dest=out",
                                  "--output=type=docker", "--load", "--output type=registry"])  # fmt: skip
def test_user_output_choice_replaces_ours(checkout, fake_docker, opts):
    bp, _ = dry(checkout, fake_docker, "build", "--docker-build-opts", opts)
    argv = build_argv(bp)
    assert "--push" not in argv[: -len(shlex.split(opts)) - 1]
    assert argv[-len(shlex.split(opts)) - 1 : -1] == shlex.split(opts)
    assert argv.count("--load") == (1 if opts == "--load" else 0)


def test_release_debug_and_archive_override(checkout, fake_docker):
    bp, _ = dry(
        checkout,
        fake_docker,
        "build",
        "--release-debug",
        "--archive-image=docker.io/me/arch:1",
        "--no-archive",
    )
    args = _build_args(bp)
    assert ("RELEASE_DEBUG", "1") in args
    assert ("ARCHIVE_IMAGE", "docker.io/me/arch:1") in args  # even with --no-archive
    assert bp.tags[1].endswith(f":latest-{host()}-release-debug")


def test_explicit_tags(checkout, fake_docker):
    bp, _ = dry(
        checkout,
        fake_docker,
        "build",
        "--tag",
        "docker.io/me/envoy:a",
        "--tag=docker.io/me/envoy:b",
    )
    argv = build_argv(bp)
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-t"] == [
        "docker.io/me/envoy:a",
        "docker.io/me/envoy:b",
    ]


def test_fallback_without_buildx(checkout, fake_docker):
    fake_docker.configure(buildx=None, version="20.10.24+dfsg1")
    bp, text = dry(checkout, fake_docker, "build", "--arch=amd64", "--cache-ref=docker.io/me/c:1")
    step = bp.plan.steps[-1]
    assert step.env == (("DOCKER_BUILDKIT", "1"),)
    assert list(step.argv) == [
        str(fake_docker.path), "build", "--platform=linux/amd64",
        *base_args(checkout),
        "--build-arg", f"ARCHIVE_IMAGE={ACCT}/cilium-envoy-builder:main-archive-latest",
        "--build-arg", "BAZEL_BUILD_OPTS=",
        "-t", f"{ACCT}/cilium-envoy:{checkout.head}-amd64",
        "-t", f"{ACCT}/cilium-envoy:latest-amd64",
        "--cache-from=docker.io/me/c:1",
        "--iidfile=.nox/cilium-envoy/build.iid", ".",
    ]  # fmt: skip
    assert "DOCKER_BUILDKIT=1 " in text


@pytest.mark.parametrize(
    "version,args,reason",
    [
        ("28.2.2", [], "builds with BuildKit only through the buildx plugin"),
        ("20.10.24", ["--arch=multi"], "multi-platform"),
        ("20.10.24", ["--push"], "only a build loaded into the local image store"),
        (
            "20.10.24",
            ["--docker-build-opts=--output=out"],
            "only a build loaded into the local image store",
        ),
        ("20.10.24", ["--builder=x"], "--builder needs it"),
    ],
)
def test_no_buildx_stops_naming_the_plugin(checkout, fake_docker, version, args, reason):
    fake_docker.configure(buildx=None, version=version)
    with pytest.raises(ToolkitError) as err:
        build.main([f"--docker={fake_docker.path}", *args], "build", root=checkout.root,
                   environ=fake_docker.env, out=io.StringIO())  # fmt: skip
    assert "no buildx plugin" in err.value.message and reason in err.value.message
    assert checkout.written() == []
    assert fake_docker.state_changing_calls() == []
    # A dry run still shows the buildx plan and says on one line what is missing.
    bp, text = dry(checkout, fake_docker, "build", *args)
    assert build_argv(bp)[1:3] == ["buildx", "build"]
    missing = [line for line in text.splitlines() if line.startswith("# cannot run here:")]
    assert len(missing) == 1 and "install the buildx plugin" in missing[0]


def test_dry_run_without_docker_shows_the_buildx_plan(checkout, fake_docker, tmp_path):
    absent = tmp_path / "nowhere" / "docker"
    out = io.StringIO()
    bp = build.main(["--dry-run", f"--docker={absent}", "--arch=multi"], "build",
                    root=checkout.root, environ=fake_docker.env, out=out)  # fmt: skip
    text = out.getvalue()
    create, step = bp.plan.steps
    assert list(step.argv)[:5] == [str(absent), "buildx", "build", "--builder", "cilium-envoy"]
    # Whether the builder exists is unknown here: the script creates it only when missing.
    assert f"{absent} buildx inspect cilium-envoy >/dev/null 2>&1 || {absent} buildx create" in text
    lines = [line for line in text.splitlines() if line.startswith("# cannot run here:")]
    assert lines == [f"# cannot run here: The docker CLI `{absent}` was not found; install "
                     "Docker or pass --docker=/path/to/docker."]  # fmt: skip
    assert checkout.written() == []


def test_dry_run_says_when_no_engine_answers(checkout, fake_docker, tmp_path):
    env = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    bp, text = dry(checkout, fake_docker, "build", env=env)
    assert (
        f"# cannot run here: No Docker engine answers (nothing listens at unix://{tmp_path}/none.sock)"
        in text
    )
    with pytest.raises(ToolkitError, match="No Docker engine answers"):
        build.main([f"--docker={fake_docker.path}"], "build", root=checkout.root,
                   environ={**fake_docker.env, **env}, out=io.StringIO())  # fmt: skip
    assert checkout.written() == [] and fake_docker.state_changing_calls() == []


def test_cli_facts_are_remembered_until_the_cli_changes(checkout, fake_docker):
    queries = (["buildx", "version"], ["--version"])
    dry(checkout, fake_docker, "build")
    assert sum(c in queries for c in fake_docker.calls) == 2
    dry(checkout, fake_docker, "build")
    assert sum(c in queries for c in fake_docker.calls) == 2  # answered from the cache
    fake_docker.configure(buildx=None, version="20.10.24")  # e.g. the plugin was removed
    bp, _ = dry(checkout, fake_docker, "build")
    assert sum(c in queries for c in fake_docker.calls) == 4
    assert bp.plan.steps[-1].argv[1] == "build"  # the fallback, not a stale buildx answer


@pytest.mark.parametrize("session,platforms", [("build", 1), ("build_multi", 2)])
def test_jobs_auto_uses_the_engine_figures(checkout, fake_docker, session, platforms):
    found = docker.engine_resources("/usr/bin/docker")
    expected = resources.recommend_jobs(found.memory_bytes, found.cpus, platforms)
    for args, env in ((["--jobs=auto"], {}), ([], {"JOBS": "auto"})):
        bp, text = dry(checkout, fake_docker, session, *args, env=env)
        assert dict(_build_args(bp))["BAZEL_BUILD_OPTS"].split() == [f"--jobs={expected}"]
        assert f"--jobs=auto chose {expected} for {found.describe()}" in text


# One sample value per setting, and a session where it shows in the command.
SAMPLES = {
    "arch": ("arm64", "build"),
    "bazel_build_opts": ("--copt=-O1", "build"),
    "bazel_test_opts": ("--test_timeout=9", "tests"),
    "bazel_remote_cache": ("grpc://cache:9092", "build"),
    "bazel_remote_executor": ("grpcs://rbe.example:443", "build"),
    "bazel_remote_instance_name": ("main", "build", "--bazel-remote-executor=grpc://rbe:8980"),
    "bazel_remote_header": ("x-api-key=k", "build", "--bazel-remote-cache=grpc://cache:9092"),
    "jobs": ("3", "build"),
    "dev_account": ("docker.io/me", "build"),
    "docker_build_opts": ("--build-arg X=1", "build"),
    "archive_image": ("docker.io/me/archive:1", "build"),
    "no_archive": ("1", "build"),
    "no_cache": ("2", "build"),
    "cache_ref": ("docker.io/me/cache:1", "build"),
    "push": ("1", "build"),
    "cache_push": ("1", "build", "--cache-ref=docker.io/me/cache:1"),
    "builder_archive_tag": ("arch-tag", "archive"),
    "tests_archive_tag": ("t-tag", "tests_archive"),
    "builder_base": ("docker.io/me/builder:1", "build"),
    "builder_base_tag": ("bb-tag", "builder"),
    "debug": ("1", "build"),
    "release_debug": ("1", "build"),
    "branch": ("feature/x", "build"),
    "buildkit_image": ("moby/buildkit:v0.17.0", "build"),
    "builder": ("mine", "build"),
}


def test_every_setting_with_an_environment_variable_has_a_sample():
    from tools.image.settings import OPTIONS

    # --docker is the stand-in in every test here; DOCKER is read by the same code.
    assert {o.name for o in OPTIONS if o.env} - {"docker"} == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_flag_and_environment_forms_give_the_same_command(checkout, fake_docker, name):
    from tools.image.settings import BY_NAME

    opt = BY_NAME[name]
    value, session, *extra = SAMPLES[name]
    default = build_argv(dry(checkout, fake_docker, session, *extra)[0])
    by_flag = build_argv(dry(checkout, fake_docker, session, *extra, f"{opt.flag}={value}")[0])
    by_env = build_argv(dry(checkout, fake_docker, session, *extra, env={opt.env: value})[0])
    assert by_flag == by_env
    assert by_flag != default, f"{opt.flag} changed nothing"


def test_branch_override_and_detached_head(checkout, fake_docker):
    sha = checkout.head
    checkout.switch("feature/x")
    bp, _ = dry(checkout, fake_docker, "build", "--branch", "main")
    h = host()
    assert bp.tags == (f"{ACCT}/cilium-envoy:{sha}-{h}", f"{ACCT}/cilium-envoy:latest-{h}")
    subprocess.run(["git", "-C", str(checkout.root), "checkout", "-q", "--detach"], check=True)
    bp, _ = dry(checkout, fake_docker, "build")
    assert bp.tags == (f"{ACCT}/cilium-envoy-dev:HEAD-{h}", f"{ACCT}/cilium-envoy-dev:{sha}-{h}")


def test_remote_execution_options_reach_bazel_as_bazel_spells_them(checkout, fake_docker):
    args = ["--bazel-build-opts=--copt=-O1", "--bazel-remote-cache=grpc://cache:9092",
            "--bazel-remote-executor=grpcs://rbe.example:443", "--bazel-remote-instance-name=main",
            "--bazel-remote-header=x-a=1", "--bazel-remote-header=x-b=2", "--jobs=8"]  # fmt: skip
    bp, _ = dry(checkout, fake_docker, "build", *args)
    assert dict(_build_args(bp))["BAZEL_BUILD_OPTS"].split() == [
        "--copt=-O1", "--remote_cache=grpc://cache:9092", "--remote_executor=grpcs://rbe.example:443",
        "--remote_instance_name=main", "--remote_header=x-a=1", "--remote_header=x-b=2", "--jobs=8",
    ]  # fmt: skip
    # The environment gives several headers at once, separated by spaces.
    env = {"BAZEL_REMOTE_EXECUTOR": "rbe.example:443", "BAZEL_REMOTE_HEADER": "x-a=1 x-b=2"}
    bp, _ = dry(checkout, fake_docker, "tests", env=env)
    test_opts = dict(_build_args(bp))["BAZEL_TEST_OPTS"].split()
    assert test_opts[-4:] == ["--remote_executor=rbe.example:443", "--remote_header=x-a=1",
                              "--remote_header=x-b=2", "--test_output=errors"]  # fmt: skip


def test_remote_headers_from_the_settings_file(checkout, fake_docker):
    (checkout.root / "nox-settings.toml").write_text(
        'bazel-remote-executor = "grpc://rbe:8980"\nbazel-remote-header = ["x-a=1", "x-b=2"]\n'
    )
    bp, _ = dry(checkout, fake_docker, "build")
    opts = dict(_build_args(bp))["BAZEL_BUILD_OPTS"].split()
    assert opts == ["--remote_executor=grpc://rbe:8980", "--remote_header=x-a=1",
                    "--remote_header=x-b=2"]  # fmt: skip
