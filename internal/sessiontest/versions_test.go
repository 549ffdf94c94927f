package sessiontest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testGoMod = `module example.com/m

go 1.26.0

replace example.com/x => ../x

require example.com/x v0.0.0-00010101000000-000000000000

require (
	github.com/gin-gonic/gin v1.12.0
	github.com/labstack/echo/v4 v4.16.0 // a comment
)

require github.com/bytedance/sonic v1.15.0 // indirect
`

func TestRequires(t *testing.T) {
	dir := t.TempDir()
	gomod := filepath.Join(dir, "go.mod")
	if err := os.WriteFile(gomod, []byte(testGoMod), 0o644); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"example.com/x":               "v0.0.0-00010101000000-000000000000",
		"github.com/gin-gonic/gin":    "v1.12.0",
		"github.com/labstack/echo/v4": "v4.16.0",
		"github.com/bytedance/sonic":  "v1.15.0",
	}
	if diff := cmp.Diff(want, Requires(t, gomod)); diff != "" {
		t.Errorf("Requires (-want +got):\n%s", diff)
	}
}

// recorder is a testing.TB that keeps the errors it is given.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, format)
}

func TestCheckVersions(t *testing.T) {
	dir := t.TempDir()
	gomod := filepath.Join(dir, "go.mod")
	if err := os.WriteFile(gomod, []byte(testGoMod), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, readme string
		errs         int
	}{
		{"no versions", "Works with gin and echo, Go 1.26 or newer.", 0},
		{"right versions", "Tested with `github.com/gin-gonic/gin` v1.12.0 and github.com/labstack/echo/v4@v4.16.0.", 0},
		{"in a table", "| `github.com/gin-gonic/gin v1.12.0` | gin |", 0},
		{"stale version", "Tested with github.com/gin-gonic/gin v1.11.0.", 1},
		{"module not required", "Tested with github.com/go-chi/chi/v5 v5.5.0.", 1},
		{"version without its module", "Tested with gin v1.12.0.", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readme := filepath.Join(dir, "README.md")
			if err := os.WriteFile(readme, []byte(tt.readme), 0o644); err != nil {
				t.Fatal(err)
			}
			r := &recorder{TB: t}
			CheckVersions(r, gomod, readme)
			if len(r.errs) != tt.errs {
				t.Errorf("%d errors (%s); want %d", len(r.errs), strings.Join(r.errs, "; "), tt.errs)
			}
		})
	}
}
