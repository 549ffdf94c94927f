package cookiesession

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// TestAppendBase64MatchesStdlib checks appendBase64 against
// base64.RawURLEncoding for every length up to 300 bytes, over random bytes
// and over runs of every byte value, appended after a prefix.
func TestAppendBase64MatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 301 {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		checkBase64(t, src)
		for _, b := range []byte{0x00, 0xff, 0xfb, 0xbf, 0x3e} {
			checkBase64(t, bytes.Repeat([]byte{b}, n))
		}
	}
	all := make([]byte, 256*3)
	for i := range all {
		all[i] = byte(i / 3 * 7)
	}
	checkBase64(t, all)
}

func checkBase64(t *testing.T, src []byte) {
	t.Helper()
	want := base64.RawURLEncoding.AppendEncode([]byte("prefix."), src)
	got := appendBase64([]byte("prefix."), src)
	if !bytes.Equal(got, want) {
		t.Fatalf("appendBase64 of %d bytes %x:\ngot  %s\nwant %s", len(src), src, got, want)
	}
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte("hello, world"))
	f.Add(bytes.Repeat([]byte{0xff}, 17))
	f.Fuzz(func(t *testing.T, src []byte) { checkBase64(t, src) })
}

func BenchmarkAppendBase64(b *testing.B) {
	src := make([]byte, 1100)
	for i := range src {
		src[i] = byte(i * 31)
	}
	dst := make([]byte, 0, 2048)
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			dst = base64.RawURLEncoding.AppendEncode(dst[:0], src)
		}
	})
	b.Run("appendBase64", func(b *testing.B) {
		for b.Loop() {
			dst = appendBase64(dst[:0], src)
		}
	})
}
