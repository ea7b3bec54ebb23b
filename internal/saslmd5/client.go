package saslmd5

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
	// ZooKeeperDigestURI is the digest-uri of ZooKeeper's SASL exchange:
	// protocol "zookeeper", server name "zk-sasl-md5", the names
	// ZooKeeperSaslClient gives the SaslClient and ZooKeeperSaslServer
	// gives the SaslServer, which checks it.
	ZooKeeperDigestURI = "zookeeper/zk-sasl-md5"
	// maxChallenge is the largest challenge RFC 2831 allows (2.1.1);
	// the rspauth message is held to the same bound.
	maxChallenge = 2048
	// maxBuf is the maxbuf the client announces, the RFC's default
	// (it matters only with a security layer, which qop=auth has not).
	maxBuf = "65536"
	// nonceCount is nc: one response per nonce, as every
	// connection runs a fresh exchange.
	nonceCount = "00000001"
	qopAuth    = "auth"
)

var (
	// ErrChallenge marks a challenge this client cannot answer:
	// malformed, or asking for what ZooKeeper never uses.
	ErrChallenge = errors.New("bad DIGEST-MD5 challenge")
	// ErrServerProof marks a server that did not prove it knows
	// the password: a missing or wrong rspauth.
	ErrServerProof = errors.New("DIGEST-MD5 server authentication failed")
)

// A directive is one name=value of a DIGEST-MD5 message, the name
// lower-cased and a quoted value unescaped.
type directive struct {
	name, value string
}

// parseDirectives splits a DIGEST-MD5 message into its directives:
// a comma-separated list (empty elements allowed, linear white space
// around every element) of name=value, where value is a token or a
// quoted-string with backslash escapes (RFC 2831 section 7).
func parseDirectives(msg []byte) ([]directive, error) {
	if len(msg) > maxChallenge {
		return nil, fmt.Errorf("%d bytes, more than %d", len(msg), maxChallenge)
	}
	s := string(msg)
	var out []directive
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
		out = append(out, directive{name, value})
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

// A challenge is what the client uses of the server's challenge
// (RFC 2831 2.1.1).
type challenge struct {
	realms []string // every realm offered; none lets the client choose
	nonce  string
	qops   []string // qop-options, lower-cased; "auth" when absent
	utf8   bool     // charset=utf-8: names and password may be UTF-8
}

// parseChallenge parses and checks a challenge: exactly one nonce
// and one algorithm (md5-sess), at most one of qop, charset, maxbuf and
// stale, qop offering auth, charset utf-8 if present. Other directives
// (cipher, unknown ones) are ignored, as the RFC asks.
func parseChallenge(msg []byte) (challenge, error) {
	var ch challenge
	if len(msg) == 0 {
		return ch, fmt.Errorf("%w: the server sent no challenge (is SASL configured on the server?)", ErrChallenge)
	}
	dirs, err := parseDirectives(msg)
	if err != nil {
		return ch, fmt.Errorf("%w: %w", ErrChallenge, err)
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
				return ch, fmt.Errorf("%w: charset %q (only utf-8 is defined)", ErrChallenge, d.value)
			}
			ch.utf8 = true
		case "algorithm":
			algorithm = d.value
		case "maxbuf", "stale":
		default:
			continue // cipher and unknown directives
		}
		if seen[d.name] {
			return ch, fmt.Errorf("%w: directive %q more than once", ErrChallenge, d.name)
		}
		seen[d.name] = true
	}
	switch {
	case ch.nonce == "":
		return ch, fmt.Errorf("%w: no nonce", ErrChallenge)
	case !seen["algorithm"]:
		return ch, fmt.Errorf("%w: no algorithm", ErrChallenge)
	case !strings.EqualFold(algorithm, "md5-sess"):
		return ch, fmt.Errorf("%w: algorithm %q (only md5-sess is defined)", ErrChallenge, algorithm)
	}
	if !seen["qop"] {
		ch.qops = []string{qopAuth}
	}
	for _, q := range ch.qops {
		if q == qopAuth {
			return ch, nil
		}
	}
	return ch, fmt.Errorf("%w: qop %q does not offer auth", ErrChallenge, strings.Join(ch.qops, ","))
}

// toDigestBytes returns s as the bytes that are hashed and sent: ISO
// 8859-1 when every character of s is in it (RFC 2831 2.1.2.1 asks for
// that conversion even when charset=utf-8), else UTF-8 if the server
// accepts it.
func toDigestBytes(what, s string, utf8OK bool) ([]byte, error) {
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

// wireValue returns s as it is sent in a quoted-string: UTF-8 under
// charset=utf-8, else the ISO 8859-1 bytes toDigestBytes made.
func wireValue(s string, hashed []byte, utf8OK bool) string {
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

// response computes the client's response to ch (RFC 2831 2.1.2)
// for user and password, with the given digest-uri and client nonce, and
// the rspauth the server must send back to prove it knows the password
// (2.1.3). The realm is the first one offered, or empty when none is.
func response(ch challenge, user, password, digestURI, cnonce string) (token []byte, rspauth string, err error) {
	if cnonce == "" {
		return nil, "", errors.New("DIGEST-MD5: empty client nonce")
	}
	realm := ""
	if len(ch.realms) > 0 {
		realm = ch.realms[0]
	}
	userB, err := toDigestBytes("user name", user, ch.utf8)
	if err != nil {
		return nil, "", err
	}
	realmB, err := toDigestBytes("realm", realm, ch.utf8)
	if err != nil {
		return nil, "", err
	}
	passB, err := toDigestBytes("password", password, ch.utf8)
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
		return md5Hex([]byte(ha1), colon, []byte(ch.nonce), colon, []byte(nonceCount), colon,
			[]byte(cnonce), colon, []byte(qopAuth), colon, []byte(ha2))
	}

	if ch.utf8 {
		token = append(token, "charset=utf-8,"...)
	}
	token = append(token, "username="...)
	token = appendQuoted(token, wireValue(user, userB, ch.utf8))
	if len(ch.realms) > 0 {
		token = append(token, ",realm="...)
		token = appendQuoted(token, wireValue(realm, realmB, ch.utf8))
	}
	token = append(token, ",nonce="...)
	token = appendQuoted(token, ch.nonce)
	token = append(token, ",nc="+nonceCount+",cnonce="...)
	token = appendQuoted(token, cnonce)
	token = append(token, ",digest-uri="...)
	token = appendQuoted(token, digestURI)
	token = append(token, ",maxbuf="+maxBuf+",response="...)
	token = append(token, kd("AUTHENTICATE:"+digestURI)...)
	token = append(token, ",qop="+qopAuth...)
	return token, kd(":" + digestURI), nil
}

// checkRspauth checks the server's last message: exactly one
// rspauth, equal to want.
func checkRspauth(msg []byte, want string) error {
	dirs, err := parseDirectives(msg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrServerProof, err)
	}
	got, n := "", 0
	for _, d := range dirs {
		if d.name == "rspauth" {
			got, n = d.value, n+1
		}
	}
	switch {
	case n == 0:
		return fmt.Errorf("%w: no rspauth in the server's last message", ErrServerProof)
	case n > 1:
		return fmt.Errorf("%w: rspauth more than once", ErrServerProof)
	case subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) != 1:
		return fmt.Errorf("%w: wrong rspauth (the server does not know the password)", ErrServerProof)
	}
	return nil
}

// NewCnonce returns a fresh client nonce: 128 random bits in
// base32, so nothing in it needs quoting.
func NewCnonce() string { return rand.Text() }

// A Client runs one DIGEST-MD5 exchange, a fresh one per connection. Its
// first token is empty (the mechanism has no initial response); Next
// consumes each server token in turn.
type Client struct {
	user, password string
	digestURI      string
	cnonce         string
	rspauth        string // the server's expected proof, once the response is made
	step           step
}

// step is where an exchange is.
type step uint8

const (
	awaitChallenge step = iota
	awaitRspauth
	exchanged
	failed
)

// NewClient returns the client side of one exchange for user with
// password, against the service digestURI (ZooKeeperDigestURI), with the
// client nonce cnonce (NewCnonce; a fixed one only in tests).
func NewClient(user, password, digestURI, cnonce string) *Client {
	return &Client{user: user, password: password, digestURI: digestURI, cnonce: cnonce}
}

// Next consumes the server's token and returns the client's next one
// (nil when there is none to send); done reports a completed exchange,
// in which the server has proved it knows the password. After an error
// the exchange is over.
func (d *Client) Next(server []byte) (reply []byte, done bool, err error) {
	switch d.step {
	case awaitChallenge:
		ch, err := parseChallenge(server)
		if err == nil {
			reply, d.rspauth, err = response(ch, d.user, d.password, d.digestURI, d.cnonce)
		}
		if err != nil {
			d.step = failed
			return nil, false, err
		}
		d.step = awaitRspauth
		return reply, false, nil
	case awaitRspauth:
		if err := checkRspauth(server, d.rspauth); err != nil {
			d.step = failed
			return nil, false, err
		}
		d.step = exchanged
		return nil, true, nil
	case exchanged:
		return nil, false, errors.New("DIGEST-MD5: a server token after the exchange completed")
	case failed:
		return nil, false, errors.New("DIGEST-MD5: the exchange has failed")
	}
	return nil, false, fmt.Errorf("DIGEST-MD5: unknown step %d", d.step)
}

// Verify checks a client's response to challenge as a server that knows
// user's password checks it, and returns the message such a server sends
// back ("rspauth=<hex>"): the server's half of the exchange, for fake
// servers in tests.
func Verify(challenge, clientResponse []byte, user, password, digestURI string) ([]byte, error) {
	dirs, err := parseDirectives(clientResponse)
	if err != nil {
		return nil, fmt.Errorf("client response: %w", err)
	}
	cnonce := ""
	for _, d := range dirs {
		if d.name == "cnonce" {
			cnonce = d.value
		}
	}
	ch, err := parseChallenge(challenge)
	if err != nil {
		return nil, err
	}
	want, proof, err := response(ch, user, password, digestURI, cnonce)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(want, clientResponse) != 1 {
		return nil, fmt.Errorf("client response %q, want %q", clientResponse, want)
	}
	return []byte("rspauth=" + proof), nil
}
