module github.com/cookiesession/cookiesession/fleet

go 1.26.0

replace github.com/cookiesession/cookiesession => ..

require github.com/cookiesession/cookiesession v0.0.0-00010101000000-000000000000

require (
	github.com/cookiesession/cookiesession/redisstore v0.0.0-00010101000000-000000000000
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/cookiesession/cookiesession/redisstore => ../redisstore
