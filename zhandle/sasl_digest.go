package zhandle

// The client side of the SASL mechanism DIGEST-MD5 (RFC 2831), as the
// JDK's SaslClient runs it for ZooKeeperSaslClient against a server whose
// JAAS "Server" section uses DigestLoginModule (the C client gets the same
// from Cyrus SASL). Only what ZooKeeper uses is implemented: qop=auth
// (authentication, no integrity or privacy layer), no authzid, a fresh
// exchange on every connection (no subsequent authentication), and the
// server's rspauth checked so that the server proves it knows the
// password too.
//
// The exchange, one packet (opcode sasl) each way per step:
//
//	client: empty token          (DIGEST-MD5 has no initial response)
//	server: challenge            realm, nonce, qop, charset, algorithm
//	client: response             username, realm, nonce, cnonce, nc, qop, digest-uri, response
//	server: rspauth=<hex>        the server's proof
//
// Everything here is a pure function of its inputs, the client nonce
// included, so that the RFC's example can be checked byte for byte.

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

const (
	// zkDigestURI is the digest-uri of ZooKeeper's SASL exchange:
	// protocol "zookeeper", server name "zk-sasl-md5", the names
	// ZooKeeperSaslClient gives the SaslClient and ZooKeeperSaslServer
	// gives the SaslServer, which checks it.
	zkDigestURI = "zookeeper/zk-sasl-md5"
	// digestMaxChallenge is the largest challenge RFC 2831 allows (2.1.1);
	// the rspauth message is held to the same bound.
	digestMaxChallenge = 2048
	// digestMaxBuf is the maxbuf the client announces, the RFC's default
	// (it matters only with a security layer, which qop=auth has not).
	digestMaxBuf = "65536"
	// digestNonceCount is nc: one response per nonce, as every
	// connection runs a fresh exchange.
	digestNonceCount = "00000001"
	digestQop        = "auth"
)

var (
	// errDigestChallenge marks a challenge this client cannot answer:
	// malformed, or asking for what ZooKeeper never uses.
	errDigestChallenge = errors.New("bad DIGEST-MD5 challenge")
	// errDigestServerProof marks a server that did not prove it knows
	// the password: a missing or wrong rspauth.
	errDigestServerProof = errors.New("DIGEST-MD5 server authentication failed")
)

// A digestDirective is one name=value of a DIGEST-MD5 message, the name
// lower-cased and a quoted value unescaped.
type digestDirective struct {
	name, value string
}

// parseDigestDirectives splits a DIGEST-MD5 message into its directives:
// a comma-separated list (empty elements allowed, linear white space
// around every element) of name=value, where value is a token or a
// quoted-string with backslash escapes (RFC 2831 section 7).
func parseDigestDirectives(msg []byte) ([]digestDirective, error) {
	if len(msg) > digestMaxChallenge {
		return nil, fmt.Errorf("%d bytes, more than %d", len(msg), digestMaxChallenge)
	}
	s := string(msg)
	var out []digestDirective
	i := 0
	for {
		i = skipLWS(s, i)
		if i == len(s) {
			return out, nil
		}
		if s[i] == ',' {
			i++
			continue
		}
		j := skipToken(s, i)
		if j == i {
			return nil, fmt.Errorf("unexpected %q at offset %d", s[i], i)
		}
		name := strings.ToLower(s[i:j])
		i = skipLWS(s, j)
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("directive %q has no value", name)
		}
		i = skipLWS(s, i+1)
		var value string
		if i < len(s) && s[i] == '"' {
			var err error
			if value, i, err = unquote(s, i); err != nil {
				return nil, fmt.Errorf("directive %q: %w", name, err)
			}
		} else {
			j = skipToken(s, i)
			if j == i {
				return nil, fmt.Errorf("directive %q has an empty value", name)
			}
			value, i = s[i:j], j
		}
		out = append(out, digestDirective{name, value})
		i = skipLWS(s, i)
		if i < len(s) && s[i] != ',' {
			return nil, fmt.Errorf("expected a comma after directive %q at offset %d", name, i)
		}
	}
}

// skipLWS returns the offset of the first byte at or after i that is not
// linear white space (space, tab, CR, LF).
func skipLWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// skipToken returns the end of the token (RFC 2616 2.2) that starts at i.
func skipToken(s string, i int) int {
	for i < len(s) && isTokenByte(s[i]) {
		i++
	}
	return i
}

func isTokenByte(b byte) bool {
	if b <= ' ' || b >= 0x7f {
		return false // CTLs, space, and non-ASCII
	}
	return !strings.ContainsRune(`()<>@,;:\"/[]?={}`, rune(b))
}

// unquote decodes the quoted-string that starts at s[i] (a '"') and
// returns its value and the offset after the closing quote.
func unquote(s string, i int) (string, int, error) {
	var b strings.Builder
	for i++; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			i++
			if i == len(s) {
				return "", 0, errors.New("unterminated quoted string")
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated quoted string")
}

// appendQuoted appends s as a quoted-string, escaping '"' and '\'.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// A digestChallenge is what the client uses of the server's challenge
// (RFC 2831 2.1.1).
type digestChallenge struct {
	realms []string // every realm offered; none lets the client choose
	nonce  string
	qops   []string // qop-options, lower-cased; "auth" when absent
	utf8   bool     // charset=utf-8: names and password may be UTF-8
}

// parseDigestChallenge parses and checks a challenge: exactly one nonce
// and one algorithm (md5-sess), at most one of qop, charset, maxbuf and
// stale, qop offering auth, charset utf-8 if present. Other directives
// (cipher, unknown ones) are ignored, as the RFC asks.
func parseDigestChallenge(msg []byte) (digestChallenge, error) {
	var ch digestChallenge
	if len(msg) == 0 {
		return ch, fmt.Errorf("%w: the server sent no challenge (is SASL configured on the server?)", errDigestChallenge)
	}
	dirs, err := parseDigestDirectives(msg)
	if err != nil {
		return ch, fmt.Errorf("%w: %w", errDigestChallenge, err)
	}
	seen := map[string]bool{}
	var algorithm string
	for _, d := range dirs {
		switch d.name {
		case "realm":
			ch.realms = append(ch.realms, d.value)
			continue
		case "nonce":
			ch.nonce = d.value
		case "qop":
			for _, q := range strings.Split(d.value, ",") {
				if q = strings.ToLower(strings.Trim(q, " \t\r\n")); q != "" {
					ch.qops = append(ch.qops, q)
				}
			}
		case "charset":
			if !strings.EqualFold(d.value, "utf-8") {
				return ch, fmt.Errorf("%w: charset %q (only utf-8 is defined)", errDigestChallenge, d.value)
			}
			ch.utf8 = true
		case "algorithm":
			algorithm = d.value
		case "maxbuf", "stale":
		default:
			continue // cipher and unknown directives
		}
		if seen[d.name] {
			return ch, fmt.Errorf("%w: directive %q more than once", errDigestChallenge, d.name)
		}
		seen[d.name] = true
	}
	switch {
	case ch.nonce == "":
		return ch, fmt.Errorf("%w: no nonce", errDigestChallenge)
	case !seen["algorithm"]:
		return ch, fmt.Errorf("%w: no algorithm", errDigestChallenge)
	case !strings.EqualFold(algorithm, "md5-sess"):
		return ch, fmt.Errorf("%w: algorithm %q (only md5-sess is defined)", errDigestChallenge, algorithm)
	}
	if !seen["qop"] {
		ch.qops = []string{digestQop}
	}
	for _, q := range ch.qops {
		if q == digestQop {
			return ch, nil
		}
	}
	return ch, fmt.Errorf("%w: qop %q does not offer auth", errDigestChallenge, strings.Join(ch.qops, ","))
}

// digestString returns s as the bytes that are hashed and sent: ISO
// 8859-1 when every character of s is in it (RFC 2831 2.1.2.1 asks for
// that conversion even when charset=utf-8), else UTF-8 if the server
// accepts it.
func digestString(what, s string, utf8OK bool) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%s is not valid UTF-8", what)
	}
	latin1 := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			if !utf8OK {
				return nil, fmt.Errorf("%s has characters outside ISO 8859-1 and the server did not offer charset=utf-8", what)
			}
			return []byte(s), nil
		}
		latin1 = append(latin1, byte(r))
	}
	return latin1, nil
}

// digestWire returns s as it is sent in a quoted-string: UTF-8 under
// charset=utf-8, else the ISO 8859-1 bytes digestString made.
func digestWire(s string, hashed []byte, utf8OK bool) string {
	if utf8OK {
		return s
	}
	return string(hashed)
}

// md5Sum returns the MD5 of the concatenated parts.
func md5Sum(parts ...[]byte) []byte {
	h := md5.New()
	for _, p := range parts {
		h.Write(p) // a hash.Hash never fails to write
	}
	return h.Sum(nil)
}

func md5Hex(parts ...[]byte) string { return hex.EncodeToString(md5Sum(parts...)) }

// digestResponse computes the client's response to ch (RFC 2831 2.1.2)
// for user and password, with the given digest-uri and client nonce, and
// the rspauth the server must send back to prove it knows the password
// (2.1.3). The realm is the first one offered, or empty when none is.
func digestResponse(ch digestChallenge, user, password, digestURI, cnonce string) (token []byte, rspauth string, err error) {
	if cnonce == "" {
		return nil, "", errors.New("DIGEST-MD5: empty client nonce")
	}
	realm := ""
	if len(ch.realms) > 0 {
		realm = ch.realms[0]
	}
	userB, err := digestString("user name", user, ch.utf8)
	if err != nil {
		return nil, "", err
	}
	realmB, err := digestString("realm", realm, ch.utf8)
	if err != nil {
		return nil, "", err
	}
	passB, err := digestString("password", password, ch.utf8)
	if err != nil {
		return nil, "", err
	}

	colon := []byte{':'}
	// A1 = H(user:realm:password) ":" nonce ":" cnonce, with H the raw
	// 16-byte MD5; HA1 = hex(MD5(A1)).
	secret := md5Sum(userB, colon, realmB, colon, passB)
	ha1 := md5Hex(secret, colon, []byte(ch.nonce), colon, []byte(cnonce))
	// KD(HA1, nonce:nc:cnonce:qop:HA2) for A2 = "AUTHENTICATE:" uri
	// (the response) and A2 = ":" uri (the server's rspauth).
	kd := func(a2 string) string {
		ha2 := md5Hex([]byte(a2))
		return md5Hex([]byte(ha1), colon, []byte(ch.nonce), colon, []byte(digestNonceCount), colon,
			[]byte(cnonce), colon, []byte(digestQop), colon, []byte(ha2))
	}

	if ch.utf8 {
		token = append(token, "charset=utf-8,"...)
	}
	token = append(token, "username="...)
	token = appendQuoted(token, digestWire(user, userB, ch.utf8))
	if len(ch.realms) > 0 {
		token = append(token, ",realm="...)
		token = appendQuoted(token, digestWire(realm, realmB, ch.utf8))
	}
	token = append(token, ",nonce="...)
	token = appendQuoted(token, ch.nonce)
	token = append(token, ",nc="+digestNonceCount+",cnonce="...)
	token = appendQuoted(token, cnonce)
	token = append(token, ",digest-uri="...)
	token = appendQuoted(token, digestURI)
	token = append(token, ",maxbuf="+digestMaxBuf+",response="...)
	token = append(token, kd("AUTHENTICATE:"+digestURI)...)
	token = append(token, ",qop="+digestQop...)
	return token, kd(":" + digestURI), nil
}

// checkDigestRspauth checks the server's last message: exactly one
// rspauth, equal to want.
func checkDigestRspauth(msg []byte, want string) error {
	dirs, err := parseDigestDirectives(msg)
	if err != nil {
		return fmt.Errorf("%w: %w", errDigestServerProof, err)
	}
	got, n := "", 0
	for _, d := range dirs {
		if d.name == "rspauth" {
			got, n = d.value, n+1
		}
	}
	switch {
	case n == 0:
		return fmt.Errorf("%w: no rspauth in the server's last message", errDigestServerProof)
	case n > 1:
		return fmt.Errorf("%w: rspauth more than once", errDigestServerProof)
	case subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) != 1:
		return fmt.Errorf("%w: wrong rspauth (the server does not know the password)", errDigestServerProof)
	}
	return nil
}

// newDigestCnonce returns a fresh client nonce: 128 random bits in
// base32, so nothing in it needs quoting.
func newDigestCnonce() string { return rand.Text() }

// A digestClient runs one DIGEST-MD5 exchange, a fresh one per
// connection. Its first token is empty (the mechanism has no initial
// response); next consumes each server token in turn.
type digestClient struct {
	user, password string
	digestURI      string
	cnonce         string
	rspauth        string // the server's expected proof, once the response is made
	step           digestStep
}

type digestStep uint8

const (
	digestAwaitChallenge digestStep = iota
	digestAwaitRspauth
	digestDone
	digestFailed
)

func newDigestClient(user, password, digestURI, cnonce string) *digestClient {
	return &digestClient{user: user, password: password, digestURI: digestURI, cnonce: cnonce}
}

// next consumes the server's token and returns the client's next one
// (nil when there is none to send); done reports a completed exchange,
// in which the server has proved it knows the password. After an error
// the exchange is over.
func (d *digestClient) next(server []byte) (reply []byte, done bool, err error) {
	switch d.step {
	case digestAwaitChallenge:
		ch, err := parseDigestChallenge(server)
		if err == nil {
			reply, d.rspauth, err = digestResponse(ch, d.user, d.password, d.digestURI, d.cnonce)
		}
		if err != nil {
			d.step = digestFailed
			return nil, false, err
		}
		d.step = digestAwaitRspauth
		return reply, false, nil
	case digestAwaitRspauth:
		if err := checkDigestRspauth(server, d.rspauth); err != nil {
			d.step = digestFailed
			return nil, false, err
		}
		d.step = digestDone
		return nil, true, nil
	case digestDone:
		return nil, false, errors.New("DIGEST-MD5: a server token after the exchange completed")
	case digestFailed:
		return nil, false, errors.New("DIGEST-MD5: the exchange has failed")
	}
	return nil, false, fmt.Errorf("DIGEST-MD5: unknown step %d", d.step)
}
