"""Envoy itself: the in-container Bazel steps, the pin and which Cilium ships which Envoy.

Owns ``bazel`` (the steps the build containers run), ``compat`` (the Cilium/Envoy table)
and the checks of the pin and the extension table.  Imports only the root modules of
``tools``; ``bazel`` and everything it imports use the standard library only and run on
Python 3.8 to 3.13, so this file must stay standard library only too.
"""
