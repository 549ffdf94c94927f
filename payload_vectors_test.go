package cookiesession

import "testing"

// vectorSession returns the small session of the payload and cookie
// vectors: a fixed ID, times, a CSRF token and a user ID.
func vectorSession() state {
	st := state{created: t0, deadline: t0 + 14*24*3600, hasID: true}
	for i := range st.id {
		st.id[i] = byte(0xa0 + i)
	}
	st.values.set("csrf", []byte(`"9f86d081884c7d659a2feaa0c55ad015"`))
	st.values.set("uid", []byte(`1042`))
	return st
}

// vectorPayload returns the payload of vectorSession.
func vectorPayload(t testing.TB) []byte {
	st := vectorSession()
	p, err := st.appendPayload(nil, DefaultValueCompressThreshold, DefaultMaxPayloadSize)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
