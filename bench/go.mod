module github.com/cookiesession/cookiesession/bench

go 1.24.0

require (
	github.com/cookiesession/cookiesession v0.0.0-00010101000000-000000000000
	github.com/google/go-cmp v0.7.0
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	golang.org/x/crypto v0.48.0
)

require golang.org/x/sys v0.41.0 // indirect

replace github.com/cookiesession/cookiesession => ..
