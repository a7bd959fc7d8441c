"""The C++ policy engine's sessions: build and test it (`filters`, `sanitize`), ask it
(`policy`) and run it inside a real Envoy.

Imports the root modules of ``tools``; ``tools.api`` for the pinned protoc-gen-validate that
generates the engine's validators; ``tools.image.docker`` (the one door to Docker) for
`nox -s policy -- --in-docker`; and ``tools.envoy.real`` for the real Envoy `e2e` runs.
"""
