"""The house rules of tools/: imports run one way, no circles, small rooms.

Each module's imports are read with ``ast`` (every ``import`` statement, including those
inside functions and ``if TYPE_CHECKING:`` blocks) and named with ``importlib``; a module
of the toolkit is a root module (``tools/*.py``) or belongs to a package (``tools/image``,
``tools/envoy``, ``tools/api``, ``tools/engine``).
"""

from __future__ import annotations

import ast
import graphlib
import importlib.util
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
PACKAGES = ("image", "envoy", "api", "engine")
#: The one arrow between packages: the engine's build generates its validators with the
#: protoc-gen-validate the api package pins and installs.
PACKAGE_ARROWS = {"engine": ("api",)}
#: No root module imports a package with an import statement; entry (and docs through
#: it) name ``"module:function"`` strings, the way the noxfile's sessions do.
#: The steps the build containers run, and so everything they import.
IN_CONTAINER = "tools.envoy.bazel"
#: The rooms' size: about 400 lines each.
MAX_LINES = 460


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def toolkit_modules() -> dict[str, Path]:
    """Every module of the toolkit but the test suite, by dotted name."""
    return {
        module_name(p): p
        for p in sorted(TOOLS.rglob("*.py"))
        if "tests" not in p.relative_to(TOOLS).parts
    }


def imported(path: Path) -> set[str]:
    """The modules ``path`` imports, by dotted name (``from tools import x`` names tools.x
    when x is a module)."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            found.add(base)
            if base.startswith("tools") and _is_package(base):
                for alias in node.names:
                    if importlib.util.find_spec(f"{base}.{alias.name}") is not None:
                        found.add(f"{base}.{alias.name}")
    return found


def _is_package(name: str) -> bool:
    spec = importlib.util.find_spec(name)
    return spec is not None and spec.submodule_search_locations is not None


def toolkit_imports() -> dict[str, set[str]]:
    modules = toolkit_modules()
    return {
        name: {m for m in imported(path) if m in modules} - {name} for name, path in modules.items()
    }


def room(name: str) -> str:
    """ "root" for tools and tools.X modules, else the package's name."""
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in PACKAGES) else "root"


def test_every_module_is_in_a_known_room():
    for name in toolkit_modules():
        assert room(name) in (*PACKAGES, "root"), name


def test_the_root_imports_no_package():
    for name, targets in toolkit_imports().items():
        if room(name) == "root":
            packages = sorted(t for t in targets if room(t) != "root" and t != "tools")
            assert not packages, f"{name} (a root module) imports {packages}"


def test_packages_import_the_root_and_themselves_only():
    for name, targets in toolkit_imports().items():
        if room(name) == "root":
            continue
        allowed = ("root", room(name), *PACKAGE_ARROWS.get(room(name), ()))
        others = sorted(t for t in targets if room(t) not in allowed)
        assert not others, f"{name} imports another package: {others}"


def test_no_import_circles():
    graph = {name: targets - {"tools"} for name, targets in toolkit_imports().items()}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import circle: {' -> '.join(exc.args[1])}")


def in_container_closure() -> set[str]:
    """tools.envoy.bazel and every toolkit module it needs (its packages' __init__ too)."""
    imports = toolkit_imports()
    seen: set[str] = set()
    pending = [IN_CONTAINER]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        pending += [".".join(parts[:i]) for i in range(1, len(parts))]  # its packages
        pending += sorted(imports[name])
    return seen


def test_in_container_modules_use_the_standard_library_only():
    modules = toolkit_modules()
    closure = in_container_closure()
    assert {"tools", "tools.envoy", "tools.envoy.bazel"} <= closure
    for name in sorted(closure):
        for target in sorted(imported(modules[name])):
            top = target.split(".")[0]
            assert target in closure or (top != "tools" and top in sys.stdlib_module_names), (
                f"{name} runs in the build containers but imports {target}"
            )


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.tests"])
def test_dockerfiles_copy_exactly_the_in_container_modules(dockerfile):
    modules = toolkit_modules()
    wanted = {modules[n].relative_to(REPO).as_posix() for n in in_container_closure()}
    text = (REPO / dockerfile).read_text()
    for stage in re.split(r"^FROM ", text, flags=re.M)[1:]:
        copied = set()
        for line in re.findall(r"^COPY (.*)$", stage, re.M):
            copied |= {w for w in line.split()[:-1] if w.startswith("tools/")}
        if copied:
            assert copied == wanted, stage.splitlines()[0]


def test_no_module_is_over_the_size_of_a_room():
    for name, path in toolkit_modules().items():
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by what it owns"


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_what_it_owns_and_may_import(package):
    doc = ast.get_docstring(ast.parse((TOOLS / package / "__init__.py").read_text()))
    assert doc and "import" in doc.lower(), (
        f"tools/{package}/__init__.py must say what it may import"
    )
