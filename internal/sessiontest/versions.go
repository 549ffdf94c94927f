package sessiontest

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Requires returns the module versions that the go.mod file at path
// requires, by module path. It reads the require directives, one-line and
// in blocks, and ignores the rest.
func Requires(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req := make(map[string]string)
	inBlock := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case inBlock && fields[0] == ")":
			inBlock = false
		case inBlock && len(fields) == 2:
			req[fields[0]] = fields[1]
		case fields[0] == "require" && len(fields) == 2 && fields[1] == "(":
			inBlock = true
		case fields[0] == "require" && len(fields) == 3:
			req[fields[1]] = fields[2]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return req
}

// versionRef matches a module path followed by a version, as a README
// names one: "github.com/gin-gonic/gin v1.12.0", with or without
// backquotes, or "github.com/gin-gonic/gin@v1.12.0". Group 1 is the path,
// group 2 the version.
var versionRef = regexp.MustCompile("`?([a-z0-9.-]+\\.[a-z]+/[A-Za-z0-9._~/-]+?)`?(?:@|\\s+`?)(v[0-9]+\\.[0-9]+\\.[0-9]+(?:-[0-9A-Za-z.-]*[0-9A-Za-z])?)")

// anyVersion matches a semantic version anywhere.
var anyVersion = regexp.MustCompile(`\bv[0-9]+\.[0-9]+\.[0-9]+`)

// CheckVersions fails t unless every version that the files named by docs
// mention (as v1.2.3) follows the path of a module that the go.mod file at
// gomod requires, and is the version it requires. So go.mod is the one
// source of truth: a README that names a version go.mod no longer
// requires, or names a version without its module, fails the test.
func CheckVersions(t testing.TB, gomod string, docs ...string) {
	t.Helper()
	req := Requires(t, gomod)
	for _, doc := range docs {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		named := 0
		for _, m := range versionRef.FindAllStringSubmatch(text, -1) {
			named++
			path, v := m[1], m[2]
			switch want, ok := req[path]; {
			case !ok:
				t.Errorf("%s names %s %s, which %s does not require", doc, path, v, gomod)
			case v != want:
				t.Errorf("%s names %s %s; %s requires %s", doc, path, v, gomod, want)
			}
		}
		if all := len(anyVersion.FindAllString(text, -1)); all != named {
			t.Errorf("%s names %d versions, only %d of them after a module path: name a version as \"module/path vX.Y.Z\", so that this test can check it against %s",
				doc, all, named, gomod)
		}
	}
}
