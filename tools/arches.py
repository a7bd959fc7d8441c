"""The one table of architectures we build (standard library only, Python 3.8+).

Everything that names an architecture reads this table: the option parser (names
and the aliases `uname -m` prints), the ELF reader, doctor's binfmt_misc check and
the in-container Bazel steps (the Bazel platform of each).
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional


class Arch(NamedTuple):
    name: str  # Docker's name: amd64, arm64
    machine: str  # what `uname -m` prints on such a host
    elf_machine: int  # e_machine of its ELF binaries
    elf_name: str  # how `file` and readelf call that machine
    qemu: str  # QEMU's name for it (qemu-<name> in binfmt_misc)
    bazel_platform: str  # the platform in envoy/platforms/BUILD

    @property
    def platform(self) -> str:
        return f"linux/{self.name}"

    @property
    def binfmt_magic(self) -> str:
        """e_machine as binfmt_misc's magic shows it (bytes 18-19, little endian, hex)."""
        return self.elf_machine.to_bytes(2, "little").hex()


ARCHES: Dict[str, Arch] = {
    "amd64": Arch("amd64", "x86_64", 62, "x86-64", "x86_64", "linux_x86_64"),
    "arm64": Arch("arm64", "aarch64", 183, "AArch64", "aarch64", "linux_aarch64"),
}

#: Every spelling a person or `uname -m` may use, by our name.
ALIASES: Dict[str, str] = {
    **{a.name: a.name for a in ARCHES.values()},
    **{a.machine: a.name for a in ARCHES.values()},
}

BY_ELF_MACHINE: Dict[int, Arch] = {a.elf_machine: a for a in ARCHES.values()}


def normalise(value: str) -> Optional[str]:
    """``amd64`` for amd64, x86_64, AMD64 ...; None for an architecture we do not build."""
    return ALIASES.get(value.strip().lower())
