module github.com/cookiesession/cookiesession/examples/lambda

go 1.26.0

replace github.com/cookiesession/cookiesession => ../..

require github.com/cookiesession/cookiesession v0.0.0-00010101000000-000000000000

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/google/go-cmp v0.7.0
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
