"""Envoy itself: the pin, the in-container Bazel steps, which Cilium ships which Envoy, and moving
to another release.

Owns ``bazel`` (the steps the build containers run), ``compat`` (the Cilium/Envoy table),
``upgrade`` (the `envoy_upgrade` session) and the checks of the pin and the extension table.
Imports only the root modules of ``tools``; ``bazel`` and everything it imports use the
standard library only and run on Python 3.8 to 3.13, so this file must stay standard library
only too.
"""
