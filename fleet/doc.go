// Package fleet holds the fleet test of cookiesession's key rotation: three
// demo servers (examples/demo) run as processes, each watching its own copy
// of the keyring file, behind a round-robin reverse proxy, all on loopback,
// while 64 clients with their own cookie jars count their visits.
//
// The copies are updated one instance at a time, seconds apart, by the
// kubelet's "..data" symbolic link swap. The test carries out the staged
// rotation (add, promote), retires the old key once the instances' counters
// show it opens nothing more, carries out the one-step rotation that
// "cookiesession rotate -schedule" writes, and checks that no request
// failed, no counter was lost or reset, and every session was sealed again
// under the new key. A control run promotes a key on one instance before
// the others have it, and the test shows that it detects the sessions this
// loses.
//
// TestFleetRevocation runs three instances of the demo's Redis build
// (examples/demo/_redis) against one redis-server that it starts on
// loopback, with 64 logged-in clients behind the proxy and a revocation
// bound of 2 s, once per failure policy. It logs out everywhere for half the
// users on one instance and replays stolen copies of their cookies on every
// instance until each is refused, within the bound plus the replay poll,
// while the other half loses nothing; then it stops redis-server for 3 s,
// starts it again, reports the requests accepted and refused, and checks
// that the bound holds again. Without redis-server it skips, or fails under
// CI=true.
//
// It is a module of its own, so that "go test ./..." in the root does not
// run it; .ci/run does:
//
//	cd fleet && go test -count=1 -timeout 5m -v ./...
//
// It builds the demo and the cookiesession command with the go command in
// PATH, and takes about 75 seconds.
package fleet
