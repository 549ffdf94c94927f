// The demo's go.mod for its Redis build: the main module's, plus the
// redisstore module and go-redis. Use it with -modfile and the overlay in
// this directory (README.md here); the main module's own go.mod never
// requires them.
module github.com/cookiesession/cookiesession

go 1.26.0

require (
	github.com/cookiesession/cookiesession/redisstore v0.0.0-00010101000000-000000000000
	github.com/google/go-cmp v0.7.0
	github.com/redis/go-redis/v9 v9.23.0
	golang.org/x/crypto v0.59.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/cookiesession/cookiesession/redisstore => ./redisstore
