"""The C++ policy engine's sessions: build and test it (`filters`, `sanitize`), ask it
(`policy`) and run it inside a real Envoy.

Imports the root modules of ``tools`` and, for the pinned protoc-gen-validate that
generates the engine's validators, ``tools.api`` (the one arrow between packages).
"""
