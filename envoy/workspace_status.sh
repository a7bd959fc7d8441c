#!/bin/sh
# Bazel's --workspace_status_command (envoy/bazelrc): the commit `cilium-envoy --version`
# reports.  The image sessions write SOURCE_VERSION before a build (a container has no
# .git); on a developer's host git answers.
rev="$(cat SOURCE_VERSION 2>/dev/null || git rev-parse HEAD 2>/dev/null || true)"
echo "BUILD_SCM_REVISION ${rev:-unknown}"
echo "BUILD_SCM_STATUS Distribution"
