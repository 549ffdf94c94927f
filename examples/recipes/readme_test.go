// Package recipes holds the test that keeps this module's README in step
// with its go.mod; the recipes are its subpackages.
package recipes

import (
	"testing"

	"github.com/cookiesession/cookiesession/internal/sessiontest"
)

// TestREADMEVersions checks that README.md names only the versions that
// go.mod requires: go.mod is the one source of truth (issue 18).
func TestREADMEVersions(t *testing.T) {
	sessiontest.CheckVersions(t, "go.mod", "README.md")
}
