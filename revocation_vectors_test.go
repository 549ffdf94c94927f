package cookiesession

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// subjectFields is the bytes of the subject fields (SPEC.md §13.2): the
// subject and its login time if subject is not nil, then the check time if
// checked is not 0.
func subjectFields(subject []byte, login, checked int64) []byte {
	var p []byte
	if subject != nil {
		p = binary.AppendUvarint(p, uint64(len(subject)))
		p = append(p, subject...)
		p = binary.BigEndian.AppendUint64(p, uint64(login))
	}
	if checked != 0 {
		p = binary.BigEndian.AppendUint64(p, uint64(checked))
	}
	return p
}

// addSubjectVectors adds the payload vectors of flags bits 4 and 5.
func addSubjectVectors(t testing.TB, add func(string, int, []byte, *vectorState, string), fail func(string, []byte, string)) {
	// A login 0.25 s into the second after t0, checked 40.5 s later.
	login, checked := int64(t0)*1e9+250_000_000, int64(t0)*1e9+40_500_000_000
	uid := `1042`
	head := func(flags byte) payloadHead { return payloadHead{payloadVersion, flags, t0, t0 + 14*24*3600, 0} }
	ok := func(desc string, h payloadHead, subject string, login, checked int64, entries ...pe) {
		st := h.describe([]string{uid}, nil, entries...)
		st.Subject, st.Login, st.Checked = subject, login, checked
		add(desc, 0, h.encodeWith(subjectFields([]byte(subject), login, checked), entries...), st, "")
	}

	// The package's own encoding of a logged-in session.
	st := vectorSession()
	st.values.del("csrf")
	st.subject, st.login, st.checked = "user-1042", login, checked
	own, err := st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxSessionSize, DefaultMaxCompressionRatio)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(own, head(0x30).encodeWith(subjectFields([]byte("user-1042"), login, checked), plainEntry("uid", uid))) {
		t.Fatal("the package's payload of a session with a subject differs from the one encoded field by field")
	}

	ok("a subject and its login time in nanoseconds (flag bit 4)", head(0x10), "user-1042", login, 0, plainEntry("uid", uid))
	ok("a subject, its login time and the last revocation check (flags 0x30)", head(0x30), "user-1042", login, checked, plainEntry("uid", uid))
	ok("a subject with its own expiry, idle timeout and a check (flags 0x35): the idle timeout comes first",
		payloadHead{payloadVersion, 0x35, t0, t0 + 3600, 90}, "a@example.com", login, checked, plainEntry("uid", uid))
	ok("a subject of 256 bytes, the most", head(0x10), strings.Repeat("s", maxSubjectLen), login, 0, plainEntry("uid", uid))

	fields := subjectFields([]byte("u"), login, checked)
	fail("flag bit 5 without bit 4", head(0x20).encodeWith(subjectFields(nil, 0, checked)), "ErrUnsupportedVersion")
	fail("a reserved flag bit (7), with a subject", head(0x90).encode(), "ErrUnsupportedVersion")
	fail("an empty subject", head(0x10).encodeWith(subjectFields([]byte{}, login, 0)), "ErrMalformed")
	fail("a subject of 257 bytes", head(0x10).encodeWith(subjectFields(bytes.Repeat([]byte("s"), maxSubjectLen+1), login, 0)), "ErrMalformed")
	fail("a subject length past the end", head(0x10).encodeWith([]byte{9, 'u'}), "ErrMalformed")
	fail("a login time cut short", head(0x10).encodeWith(fields[:2+7]), "ErrMalformed")
	fail("a login time of 0", head(0x10).encodeWith(subjectFields([]byte("u"), 0, 0)), "ErrMalformed")
	fail("a login time before 1970", head(0x10).encodeWith(subjectFields([]byte("u"), -1, 0)), "ErrMalformed")
	fail("a check time cut short", head(0x30).encodeWith(fields[:len(fields)-1]), "ErrMalformed")
	fail("a check time before 1970", head(0x30).encodeWith(subjectFields([]byte("u"), login, -5)), "ErrMalformed")
}
