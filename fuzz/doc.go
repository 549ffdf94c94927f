// Package fuzz holds the fuzz targets for cookiesession's public API (three
// more, FuzzAppendBase64, FuzzScalarJSON and FuzzVerifyProof, test
// unexported helpers and so live in the root package's base64_test.go,
// scalar_test.go and dbsc_jws_test.go). It has no code of its own: the
// targets are in codec_fuzz_test.go, keyring_fuzz_test.go, device_fuzz_test.go,
// cookie_fuzz_test.go and payload_fuzz_test.go, their fixed keys, clock and
// limits in helpers_test.go, the independent decoder written from SPEC.md
// that they check against in spec_test.go, and the check of the committed
// corpus in corpus_test.go.
// They use the library only through its public API.
//
// The targets are:
//
//   - FuzzOpen opens an arbitrary string, for an arbitrary cookie name, with a
//     fixed keyring (a primary, a decrypt-only and a disabled key) and a fixed
//     clock. Open must never panic, every error must wrap exactly one of the
//     sentinels that SPEC.md §9 lists for opening, and the outcome must match
//     an independent decoder written from SPEC.md §6 inside the test. The same
//     input is then also sealed by that decoder's encoder as an authenticated
//     plaintext (first byte: the flags; the rest: the body) and opened again,
//     so that the checks after authentication (flags, expiry, DEFLATE,
//     deserialization) are fuzzed too.
//   - FuzzSealOpen seals a struct built from the fuzz inputs, with compression
//     on (Options.Compress, threshold 1) and off, and requires that it opens
//     to an equal value with the expected key and expiry, that the spec
//     decoder reads the same payload, and that it does not open under another
//     cookie name.
//   - FuzzParseKeyring parses arbitrary keyring text. Text that parses must
//     survive Marshal and ParseKeyring unchanged; text that does not must give
//     an error wrapping ErrInvalidKeyring, ErrInvalidKey or ErrDuplicateKeyID
//     that never quotes a secret from the input.
//   - FuzzLoadHeader loads a session from an arbitrary Cookie header with
//     Manager.LoadHeader. It must never panic, every error must wrap one of
//     the sentinels, and a session that loads must be either new and empty
//     or authentic: exactly one of the sessions the test sealed (single and
//     split over several cookies), whose contents derive from its ID.
//   - FuzzSessionPayload seals arbitrary bytes as an authentic session
//     payload and loads it with Manager.LoadHeader, so that the fuzzer works
//     on the decoder of SPEC.md §13 (entries, per-value compression, the
//     inflated-size cap, minimal uvarints). The outcome must match an
//     independent decoder of §13 in spec_test.go: the same error, or the
//     same ID, keys and values, with a compressed value that does not
//     inflate as stated failing only when it is read. A session that loads
//     is sealed again and must load back to the same.
//   - FuzzMiddleware sends arbitrary Cookie headers through the middleware.
//     The response is always a 200, never a 500; the handler sees a new or
//     an authentic session; and every Set-Cookie line parses and is at most
//     4096 bytes.
//   - FuzzDeviceEndpoints sends the device-binding endpoints and an
//     ordinary route arbitrary proofs, session identifiers and device
//     cookies beside an authentic session (Config.DeviceBinding on). Nothing
//     answers 5xx, no registration or refresh succeeds, no session becomes
//     bound, and every hook error wraps a sentinel. The proof verifier
//     itself is fuzzed by FuzzVerifyProof in the root package.
//
// The codecs cap payloads at 1 KiB instead of the default 64 KiB, so that
// the fuzzer reaches the size limits with small inputs; the limit checks are
// the same code whatever the cap.
//
// A plain "go test ./fuzz" runs every target once on its seeds: those added
// with f.Add and the committed corpus in testdata/fuzz/<Target>/ (for example
// testdata/fuzz/FuzzOpen/). TestCorpus checks that each of those directories
// holds at least three files in the "go test fuzz v1" format.
//
// To fuzz a target for longer, run one at a time from the module root:
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzOpen$' -fuzztime 10m
//	go test ./fuzz -run '^$' -fuzz '^FuzzSealOpen$' -fuzztime 10m
//	go test ./fuzz -run '^$' -fuzz '^FuzzParseKeyring$' -fuzztime 10m
//	go test ./fuzz -run '^$' -fuzz '^FuzzLoadHeader$' -fuzztime 10m -fuzzminimizetime 5s
//	go test ./fuzz -run '^$' -fuzz '^FuzzMiddleware$' -fuzztime 10m -fuzzminimizetime 5s
//	go test ./fuzz -run '^$' -fuzz '^FuzzSessionPayload$' -fuzztime 10m
//
// Each new interesting input is minimized before fuzzing goes on, for up to
// a minute by default; the exec count stands still meanwhile. Minimization
// tries a number of candidates quadratic in the input's length, and every
// FuzzSealOpen exec runs DEFLATE, so that target can spend much of a short
// run minimizing. Add -fuzzminimizetime 5s to spend the time on new inputs
// instead.
//
// New interesting inputs go to the build cache,
// $(go env GOCACHE)/fuzz/github.com/cookiesession/cookiesession/fuzz/<Target>/.
// An input that fails is written to testdata/fuzz/<Target>/ and then runs
// with every "go test"; once the bug is fixed, keep it there as a regression
// test. Copy a few cache entries into testdata/fuzz/<Target>/ when they reach
// code that the committed corpus does not, but keep the corpus small.
package fuzz
