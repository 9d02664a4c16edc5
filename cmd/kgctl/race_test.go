//go:build race

package main

// Under the race detector the binaries under test are built with it too, so
// that kgctl's own concurrency (probe's concurrent duplicates) is checked.
func init() { buildFlags = append(buildFlags, "-race") }
