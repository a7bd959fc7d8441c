"""The C++ policy engine's sessions: build and test it (`filters`, `sanitize`), ask it
(`policy`) and run it inside a real Envoy.

Imports only the root modules of ``tools``.
"""
