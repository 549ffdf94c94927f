package ginsession

import (
	"testing"

	"github.com/cookiesession/cookiesession/internal/sessiontest"
)

// TestREADMEVersions checks that README.md names only the versions that
// go.mod requires: go.mod is the one source of truth.
func TestREADMEVersions(t *testing.T) {
	sessiontest.CheckVersions(t, "go.mod", "README.md")
}
