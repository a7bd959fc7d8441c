"""Helpers behind the Nox sessions of the Cilium proxy build toolkit.

Data flows one way: options -> Settings -> Plan -> run.  Modules used inside
the build containers (``bazel``) import only the standard library.
"""
