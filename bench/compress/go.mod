module github.com/cookiesession/cookiesession/bench/compress

go 1.24.0

require github.com/klauspost/compress v1.19.2
