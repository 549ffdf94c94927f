module github.com/cookiesession/cookiesession/examples/lambda

go 1.24.0

replace github.com/cookiesession/cookiesession => ../..

require github.com/cookiesession/cookiesession v0.0.0-00010101000000-000000000000

require (
	github.com/aws/aws-lambda-go v1.54.0
	github.com/google/go-cmp v0.7.0
	golang.org/x/crypto v0.48.0 // indirect
	golang.org/x/sys v0.41.0 // indirect
)
