"""The image sessions: from a flag to a `docker buildx build` argv, and the checks around it.

Owns the option table (``settings``) and the session table (``sessions``), the facts a
build depends on (``facts``), the pure plan (``plan``), running it (``build``), the
``.dockerignore`` files, image references and tag rules (``images``), ``doctor`` and
``extract``.  ``docker`` is the one module that talks to the Docker engine.  May import
the root modules of ``tools`` and the docker SDK (lazily, only where the engine is asked);
no other package.
"""
