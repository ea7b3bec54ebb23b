// Package saslmd5 is the client side of the SASL mechanism DIGEST-MD5
// (RFC 2831) as ZooKeeper uses it: the JDK's SaslClient for
// ZooKeeperSaslClient against a server whose JAAS "Server" section uses
// DigestLoginModule (the C client gets the same from Cyrus SASL, outside
// zookeeper.c, as zk_sasl.c keeps it apart). Only what ZooKeeper uses is
// implemented: qop=auth (authentication, no integrity or privacy layer),
// no authzid, a fresh exchange on every connection (no subsequent
// authentication), and the server's rspauth checked so that the server
// proves it knows the password too.
//
// The exchange, one packet (opcode sasl) each way per step:
//
//	client: empty token          (DIGEST-MD5 has no initial response)
//	server: challenge            realm, nonce, qop, charset, algorithm
//	client: response             username, realm, nonce, cnonce, nc, qop, digest-uri, response
//	server: rspauth=<hex>        the server's proof
//
// Everything here is a pure function of its inputs, the client nonce
// included, so that the RFC's example is checked byte for byte. The
// handle (package zhandle) carries the tokens.
package saslmd5
