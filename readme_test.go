package cookiesession

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeCodeBlocks checks that every Go code block in README.md is, line
// for line, a region of an example file marked "// readme:begin" and
// "// readme:end", and that every such region appears in README. The
// examples compile with the tests, so README's code does too.
func TestReadmeCodeBlocks(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?ms)^```go\n(.*?)^```\n").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 3 {
		t.Fatalf("only %d Go blocks in README.md", len(blocks))
	}

	files, err := filepath.Glob("example*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string]string{} // dedented region -> file
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range readmeRegions(t, f, string(src)) {
			regions[r] = f
		}
	}

	used := map[string]bool{}
	for _, b := range blocks {
		if _, ok := regions[b[1]]; !ok {
			t.Errorf("README.md block is in no readme:begin/end region of example*_test.go:\n%s", b[1])
		}
		used[b[1]] = true
	}
	for r, f := range regions {
		if !used[r] {
			t.Errorf("%s: region is not in README.md:\n%s", f, r)
		}
	}
}

// readmeRegions returns the marked regions of src, each with the
// indentation of its marker removed from every line.
func readmeRegions(t *testing.T, file, src string) []string {
	var out []string
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		indent, ok := strings.CutSuffix(lines[i], "// readme:begin")
		if !ok || strings.TrimLeft(indent, "\t") != "" {
			continue
		}
		var b strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "// readme:end"; i++ {
			line, ok := strings.CutPrefix(lines[i], indent)
			if !ok && strings.TrimSpace(lines[i]) != "" {
				t.Fatalf("%s:%d: line is indented less than its readme:begin marker", file, i+1)
			}
			b.WriteString(line)
			b.WriteByte('\n')
		}
		if i == len(lines) {
			t.Fatalf("%s: readme:begin without readme:end", file)
		}
		out = append(out, b.String())
	}
	return out
}
