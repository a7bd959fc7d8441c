// Test-only: tools/tests/test_go_module.py runs this program to see what a
// module zip of the checkout would hold. Its own module, so neither it nor
// golang.org/x/mod is part of github.com/cilium/proxy.
module example.com/go-modzip

go 1.25.0

require golang.org/x/mod v0.35.0
