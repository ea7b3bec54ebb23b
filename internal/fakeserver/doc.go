// Package fakeserver is a scripted ZooKeeper server for the client's unit
// tests, where a real server cannot be made to misbehave on cue: the
// ZKMocks of the C client's test suite.
//
// New listens on 127.0.0.1 and runs a script per accepted connection: read
// frames or requests, answer, write raw or garbage bytes, close. Every read
// of a Conn method has a deadline, so a script never hangs a test;
// NeverAnswer, which waits for the client, ends with Close.
//
//	fs := fakeserver.New(t)
//	fs.Script(func(c *fakeserver.Conn) {
//		c.Handshake(0x1234, 4000, passwd, false)
//		xid, _, _ := c.ReadRequestAnswerPings()
//		c.Reply(xid, 7, serialize.ErrNoNode, nil)
//	})
//	h, err := zhandle.Init(fs.Addr(), w, 4*time.Second)
package fakeserver
