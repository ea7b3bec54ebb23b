// Package bench measures the client: the port of the C client's load_gen
// idea (src/c/src/load_gen.c), which drives one handle with a stream of
// requests and reports the rate, reshaped as Go benchmarks.
//
// FakeServer is an in-process ZooKeeper stand-in on 127.0.0.1 that answers
// with canned replies and allocates nothing per request, so that what a
// benchmark measures is the client. The benchmarks in bench_test.go cover
// the sync and async APIs, a watch fire-and-re-arm cycle, handles shared
// by many goroutines, the poll loop in isolation, and the codec steps of a
// getData round trip:
//
//	go test -run '^$' -bench . -benchtime=2000x ./bench/
//
// The BenchmarkReal* benchmarks run against a real standalone ZooKeeper
// (zktest) and are skipped unless -zk.real is given:
//
//	go test -run '^$' -bench Real ./bench/ -args -zk.real
package bench
