package fuzz

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusTargets lists each fuzz target with the types of its arguments, as
// they appear in the corpus files.
var corpusTargets = []struct {
	name  string
	types []string
}{
	{"FuzzOpen", []string{"string", "string"}},
	{"FuzzSealOpen", []string{"string", "int64", "bool", "[]byte", "string"}},
	{"FuzzParseKeyring", []string{"string"}},
	{"FuzzLoadHeader", []string{"string"}},
	{"FuzzMiddleware", []string{"string", "string", "byte"}},
	{"FuzzSessionPayload", []string{"[]byte"}},
	{"FuzzDeviceEndpoints", []string{"string", "string", "string", "byte"}},
}

func TestCorpus(t *testing.T) {
	for _, target := range corpusTargets {
		t.Run(target.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "fuzz", target.name)
			files, err := filepath.Glob(filepath.Join(dir, "*"))
			if err != nil {
				t.Fatalf("Glob: %v", err)
			}
			if len(files) < 3 {
				t.Fatalf("%s holds %d corpus files, want at least 3", dir, len(files))
			}
			for _, file := range files {
				checkCorpusFile(t, file, target.types)
			}
		})
	}
}

// checkCorpusFile checks that file is in the "go test fuzz v1" format with
// one line per argument, each starting with the argument's type.
func checkCorpusFile(t *testing.T, file string, types []string) {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		t.Errorf("%s: first line is not %q", file, "go test fuzz v1")
		return
	}
	var args []string
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			args = append(args, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(args) != len(types) {
		t.Errorf("%s: %d arguments, want %d", file, len(args), len(types))
		return
	}
	for i, a := range args {
		if !strings.HasPrefix(a, types[i]+"(") {
			t.Errorf("%s: argument %d is %.40q, want a %s", file, i+1, a, types[i])
		}
	}
}
