package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/zkloop/zkloop/zhandle"
)

// TLS and SASL on the command line: zkCli.sh's settings (the
// zookeeper.ssl.* and JAAS "Client" properties) as flags, and cli_mt's
// -s/--ssl ca,cert,key. The files are read once, before connecting, so that
// a bad file is a usage error rather than a failed connection.

// saslPasswordEnv holds the SASL password when -sasl-password is not
// given: unlike the command line, the environment is not shown by ps.
const saslPasswordEnv = "ZKCLI_SASL_PASSWORD"

// fileFlag is a file named on the command line and the flag that named
// it, for error messages.
type fileFlag struct{ flag, path string }

// securityFlags is what the command line says about TLS and SASL, before
// the files are read.
type securityFlags struct {
	tls          bool     // -tls, or any other TLS flag
	ca           fileFlag // -tls-ca: trusted instead of the system roots
	cert, key    fileFlag // -tls-cert, -tls-key: the client certificate
	serverName   string   // -tls-server-name
	saslUser     string   // -sasl-user
	password     *string  // -sasl-password, or $ZKCLI_SASL_PASSWORD
	passwordFile fileFlag // -sasl-password-file
}

// isSecurityFlag reports whether name is a flag that set takes.
func isSecurityFlag(name string) bool {
	switch name {
	case "tls-ca", "tls-cert", "tls-key", "tls-server-name", "s", "ssl",
		"sasl-user", "sasl-password", "sasl-password-file":
		return true
	}
	return false
}

// set records the flag name (as typed after its dashes) with its value.
// Every TLS flag turns TLS on.
func (f *securityFlags) set(name, value string) error {
	flag := "-" + name
	if name == "ssl" {
		flag = "--ssl"
	}
	if value == "" && name != "sasl-password" {
		return fmt.Errorf("%s: empty value", flag)
	}
	switch name {
	case "tls-ca":
		f.tls, f.ca = true, fileFlag{flag, value}
	case "tls-cert":
		f.tls, f.cert = true, fileFlag{flag, value}
	case "tls-key":
		f.tls, f.key = true, fileFlag{flag, value}
	case "tls-server-name":
		f.tls, f.serverName = true, value
	case "s", "ssl":
		return f.setSSL(flag, value)
	case "sasl-user":
		f.saslUser = value
	case "sasl-password":
		f.password = &value
	case "sasl-password-file":
		f.passwordFile = fileFlag{flag, value}
	}
	return nil
}

// setSSL takes cli_mt's -s/--ssl "ca,cert,key[,passwd]", without the
// password.
func (f *securityFlags) setSSL(flag, value string) error {
	fields := strings.Split(value, ",")
	if len(fields) == 4 && fields[3] != "" {
		return fmt.Errorf("%s: a password for the key is not supported: decrypt the key first (openssl pkey -in key.pem -out plain-key.pem)", flag)
	}
	if len(fields) < 3 || len(fields) > 4 || fields[0] == "" || fields[1] == "" || fields[2] == "" {
		return fmt.Errorf("%s %q: want ca,cert,key (PEM files)", flag, value)
	}
	f.ca, f.cert, f.key = fileFlag{flag, fields[0]}, fileFlag{flag, fields[1]}, fileFlag{flag, fields[2]}
	f.tls = true
	return nil
}

// check reports the flags that are missing their partner, taking the
// password from getenv's ZKCLI_SASL_PASSWORD when no flag gives it.
func (f *securityFlags) check(getenv func(string) string) error {
	switch {
	case f.cert.path != "" && f.key.path == "":
		return fmt.Errorf("%s needs -tls-key: the client certificate's private key", f.cert.flag)
	case f.key.path != "" && f.cert.path == "":
		return fmt.Errorf("%s needs -tls-cert: the client certificate", f.key.flag)
	case f.password != nil && f.passwordFile.path != "":
		return errors.New("give -sasl-password or -sasl-password-file, not both")
	case f.saslUser == "" && (f.password != nil || f.passwordFile.path != ""):
		return errors.New("a SASL password needs -sasl-user")
	}
	if f.saslUser == "" || f.password != nil || f.passwordFile.path != "" {
		return nil
	}
	if p := getenv(saslPasswordEnv); p != "" {
		f.password = &p
		return nil
	}
	return fmt.Errorf("-sasl-user %s: no password: give -sasl-password-file, $%s or -sasl-password", f.saslUser, saslPasswordEnv)
}

// security is the TLS and SASL settings of a session, files read.
type security struct {
	tls                    *tls.Config // nil: plain TCP
	saslUser, saslPassword string      // "" user: no SASL
}

// options returns the handle's options for s.
func (s security) options() []zhandle.Option {
	var options []zhandle.Option
	if s.tls != nil {
		options = append(options, zhandle.WithTLS(s.tls))
	}
	if s.saslUser != "" {
		options = append(options, zhandle.WithSASLDigest(s.saslUser, s.saslPassword))
	}
	return options
}

// load reads the files the flags name.
func (f *securityFlags) load() (security, error) {
	var s security
	if f.tls {
		s.tls = &tls.Config{ServerName: f.serverName}
		if f.ca.path != "" {
			pool, err := loadCA(f.ca)
			if err != nil {
				return s, err
			}
			s.tls.RootCAs = pool
		}
		if f.cert.path != "" {
			cert, err := loadKeyPair(f.cert, f.key)
			if err != nil {
				return s, err
			}
			s.tls.Certificates = []tls.Certificate{cert}
		}
	}
	s.saslUser = f.saslUser
	switch {
	case f.password != nil:
		s.saslPassword = *f.password
	case f.passwordFile.path != "":
		p, err := loadPassword(f.passwordFile)
		if err != nil {
			return s, err
		}
		s.saslPassword = p
	}
	return s, nil
}

// read returns the contents of the file, the flag named in its error.
func (f fileFlag) read() ([]byte, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.flag, err)
	}
	return data, nil
}

// loadCA reads a PEM file of CA certificates.
func loadCA(f fileFlag) (*x509.CertPool, error) {
	data, err := f.read()
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no PEM certificate in %s", f.flag, f.path)
	}
	return pool, nil
}

// loadKeyPair reads a PEM certificate and its unencrypted private key.
func loadKeyPair(certFile, keyFile fileFlag) (tls.Certificate, error) {
	certPEM, err := certFile.read()
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := keyFile.read()
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	switch {
	case err == nil:
		return cert, nil
	case encryptedPEM(keyPEM):
		return cert, fmt.Errorf("%s %s: the key is encrypted, which is not supported: decrypt it first (openssl pkey -in key.pem -out plain-key.pem)", keyFile.flag, keyFile.path)
	}
	return cert, fmt.Errorf("%s %s and %s %s: %w", certFile.flag, certFile.path, keyFile.flag, keyFile.path, err)
}

// encryptedPEM reports whether data holds an encrypted private key: PKCS#8
// "ENCRYPTED PRIVATE KEY", or OpenSSL's legacy Proc-Type header.
func encryptedPEM(data []byte) bool {
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return true
		}
	}
}

// loadPassword reads the first line of a password file.
func loadPassword(f fileFlag) (string, error) {
	data, err := f.read()
	if err != nil {
		return "", err
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return "", fmt.Errorf("%s: no password on the first line of %s", f.flag, f.path)
	}
	return string(line), nil
}
