"""Helpers behind the Nox sessions of the Cilium proxy build toolkit, in rooms by concern.

The root modules (``tools/*.py``) are the shared plumbing: the one subprocess runner
and plans (``run``), errors, argparse, files, git facts, the architectures table.  The
packages hold the sessions: ``image`` (the image sessions, doctor, extract), ``envoy``
(the in-container Bazel steps, Cilium/Envoy compatibility), ``api`` (the Go API),
``engine`` (the policy engine's sessions).  Imports run one way: packages import the
root, the root imports no package, no package imports another.  Data flows one way:
options -> Settings -> facts (gathered once) -> plan (pure) -> run.  This file and
everything the build containers run (``envoy.bazel``) use the standard library only.
"""
