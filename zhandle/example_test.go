package zhandle_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"expvar"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/zkloop/zkloop/zhandle"
)

// The examples that need a server have no Output line: they compile but do
// not run under go test.

// Connect to a server under the chroot /app, wait for the session, and
// read a node.
func Example() {
	h, err := zhandle.Init("127.0.0.1:2181/app", nil, 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.WaitConnected(ctx); err != nil {
		log.Fatal(err)
	}
	data, stat, err := h.Get(ctx, "/config", false)
	switch {
	case errors.Is(err, zhandle.ErrNoNode):
		fmt.Println("no /app/config yet")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Printf("%s (version %d)\n", data, stat.Version)
	}
}

// A watch fires once, on the completion goroutine, with the path as the
// client sees it (the chroot stripped).
func ExampleHandle_WGet() {
	h, err := zhandle.Init("127.0.0.1:2181/app", nil, 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	if err := h.WaitConnected(ctx); err != nil {
		log.Fatal(err)
	}
	changed := make(chan zhandle.Event, 1)
	watcher := zhandle.WatcherFunc(func(ev zhandle.Event) { changed <- ev })
	if _, _, err := h.WGet(ctx, "/config", watcher); err != nil {
		log.Fatal(err)
	}
	ev := <-changed
	fmt.Println(ev.Type, ev.Path) // e.g. NodeDataChanged /config
}

// An asynchronous call returns at once; its callback runs later, in reply
// order. The data slice is valid only during the callback.
func ExampleHandle_AGet() {
	h, err := zhandle.Init("127.0.0.1:2181", nil, 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	done := make(chan string, 1)
	err = h.AGet("/zookeeper/config", false, func(err error, data []byte, stat *zhandle.Stat) {
		if err != nil {
			done <- err.Error()
			return
		}
		done <- string(data) // string() copies: data is reused after the callback
	})
	if err != nil {
		log.Fatal(err) // not queued: a bad path, or the handle is closed
	}
	fmt.Println(<-done)
}

// A multi applies all its operations or none.
func ExampleHandle_Multi() {
	h, err := zhandle.Init("127.0.0.1:2181", nil, 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	results, err := h.Multi(ctx,
		zhandle.CreateOp{Path: "/jobs", ACL: zhandle.OpenACLUnsafe},
		zhandle.CreateOp{Path: "/jobs/job-", ACL: zhandle.OpenACLUnsafe, Mode: zhandle.PersistentSequential},
		zhandle.SetDataOp{Path: "/jobs", Data: []byte("1 job"), Version: 0},
	)
	if err != nil {
		for i, r := range results {
			fmt.Printf("op %d: %v\n", i, r.Err) // nil before the failure, then its error
		}
		log.Fatal(err)
	}
	fmt.Println("created", results[1].Path) // e.g. /jobs/job-0000000000
}

// Errors are ZooKeeper's return codes, with the C client's values; compare
// them with errors.Is, which sees through wrapping.
func ExampleError() {
	err := fmt.Errorf("loading settings: %w", zhandle.ErrNoNode)
	fmt.Println(errors.Is(err, zhandle.ErrNoNode), errors.Is(err, zhandle.ErrNodeExists))
	fmt.Println(int32(zhandle.ErrNoNode), zhandle.ErrNoNode)
	// Output:
	// true false
	// -101 zk: no node
}

// GetInto reads into the caller's buffer: once it is large enough, a read
// allocates nothing.
func ExampleHandle_GetInto() {
	h, err := zhandle.Init("127.0.0.1:2181", nil, 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	buf := make([]byte, 0, 4096)
	for range 3 {
		var stat zhandle.Stat
		buf, stat, err = h.GetInto(ctx, "/config", buf, false)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d bytes, version %d\n", len(buf), stat.Version)
	}
}

// A sequential node gets a name the server makes unique.
func ExampleHandle_Create() {
	h, err := zhandle.Init("127.0.0.1:2181", nil, 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	path, err := h.Create(context.Background(), "/jobs/job-", []byte("payload"), zhandle.OpenACLUnsafe, zhandle.PersistentSequential)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(path) // e.g. /jobs/job-0000000007
}

// TLS with a client certificate, and SASL DIGEST-MD5 on top: a refusal
// ends the handle, and WaitConnected says why.
func ExampleWithTLS() {
	pool := x509.NewCertPool()
	ca, err := os.ReadFile("ca.pem")
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		log.Fatal("no CA certificate in ca.pem")
	}
	clientCert, err := tls.LoadX509KeyPair("alice.pem", "alice-key.pem")
	if err != nil {
		log.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}}
	h, err := zhandle.Init("zk1.example.com:2281,zk2.example.com:2281", nil, 10*time.Second,
		zhandle.WithTLS(cfg), zhandle.WithSASLDigest("alice", os.Getenv("ZK_PASSWORD")))
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	if err := h.WaitConnected(context.Background()); errors.Is(err, zhandle.ErrAuthFailed) {
		log.Fatal(err) // e.g. "... TLS with 10.0.0.1:2281: tls: failed to verify certificate: ..."
	}
}

// latencyTracer feeds request latencies and errors to counters of the
// application's metrics system; here expvar stands in for Prometheus or
// OpenTelemetry (see the README). It implements only RequestTracer and
// ConnTracer: the handle calls the hooks a tracer has.
type latencyTracer struct {
	requests, failures, disconnects *expvar.Int
	latencyMicros                   *expvar.Map // by operation
}

func (t latencyTracer) TraceRequestStart(zhandle.RequestStart) { t.requests.Add(1) }

func (t latencyTracer) TraceRequestEnd(e zhandle.RequestEnd) {
	t.latencyMicros.Add(e.Op.String(), e.Duration.Microseconds())
	if e.Err != nil {
		t.failures.Add(1)
	}
}

func (t latencyTracer) TraceConnecting(zhandle.ConnEvent)     {}
func (t latencyTracer) TraceConnected(zhandle.ConnEvent)      {}
func (t latencyTracer) TraceDisconnected(e zhandle.ConnEvent) { t.disconnects.Add(1) }

// A tracer sees every request start and end, and the connection's life;
// Stats gives the handle's counters at any time.
func ExampleWithTracer() {
	tracer := latencyTracer{
		requests:      expvar.NewInt("zk_requests"),
		failures:      expvar.NewInt("zk_failures"),
		disconnects:   expvar.NewInt("zk_disconnects"),
		latencyMicros: expvar.NewMap("zk_latency_us"),
	}
	h, err := zhandle.Init("127.0.0.1:2181", nil, 10*time.Second, zhandle.WithTracer(tracer))
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	if _, err := h.Exists(context.Background(), "/", false); err != nil {
		log.Fatal(err)
	}
	st := h.Stats()
	fmt.Println(st.RequestsSent, st.PingRTT, st.Outstanding)
}
