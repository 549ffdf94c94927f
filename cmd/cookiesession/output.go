package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeKeyring writes keyring text to the file path names, or to stdout if
// path is empty.
//
// The file gets mode 0600 and is replaced atomically: the text goes to a
// new file in the same directory, which is then renamed over path. A
// process that watches path (cookiesession.FileKeySource) thus reads
// either the old text or the new, never half of one, and the secret is
// never readable by other users, as it would be in a file that a shell's
// "> file" creates with mode 0644.
func writeKeyring(path string, stdout io.Writer, text string) error {
	if path == "" {
		_, err := io.WriteString(stdout, text)
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".cookiesession-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := io.WriteString(f, text); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}
