module github.com/zkloop/zkloop/bench/compare

go 1.26.0

replace github.com/zkloop/zkloop => ../..

require (
	github.com/go-zookeeper/zk v1.0.4
	github.com/zkloop/zkloop v0.0.0-00010101000000-000000000000
)

require golang.org/x/sys v0.49.0 // indirect
