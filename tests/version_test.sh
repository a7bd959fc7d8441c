#!/bin/sh
# Usage: version_test.sh PROXY ENVOY_VERSION_FILE
# Passes when PROXY runs and `--version` names the release in ENVOY_VERSION_FILE.
set -eu
proxy="$1"
want="$(sed -e 's/^envoy-//' "$2")"
out="$("$proxy" --version)"
echo "$out"
case "$out" in
  *"/$want/"*) echo "PASS: the proxy reports Envoy $want" ;;
  *) echo "FAIL: the proxy does not report Envoy $want"; exit 1 ;;
esac
