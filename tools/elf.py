"""The machine an ELF binary was built for (standard library only, Python 3.8+)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Union

from tools.arches import BY_ELF_MACHINE

#: e_machine values of the architectures we build, by Docker's architecture name.
MACHINES = {number: arch.name for number, arch in BY_ELF_MACHINE.items()}
NAMES = {number: arch.elf_name for number, arch in BY_ELF_MACHINE.items()}


class NotElf(ValueError):
    pass


def e_machine(header: bytes) -> int:
    if len(header) < 20 or header[:4] != b"\x7fELF":
        raise NotElf("not an ELF file")
    order = "<" if header[5] == 1 else ">"
    return struct.unpack(order + "H", header[18:20])[0]


def arch_of(path: Union[str, Path]) -> str:
    """``amd64``, ``arm64`` or ``machine <n>`` for another architecture."""
    with open(path, "rb") as handle:
        machine = e_machine(handle.read(20))
    return MACHINES.get(machine, f"machine {machine}")
