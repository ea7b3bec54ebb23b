package zktest

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zkloop/zkloop/internal/jvm"
)

// The super user every server accepts: after AddAuth("digest", SuperAuth) a
// session may do anything, whatever the ACLs (and may reconfigure).
const (
	SuperUser     = "super"
	SuperPassword = "test"
	SuperAuth     = SuperUser + ":" + SuperPassword
)

// superDigest is the value of zookeeper.DigestAuthenticationProvider.superDigest:
// user:base64(sha1("user:password")), as DigestAuthenticationProvider.generateDigest.
func superDigest() string {
	sum := sha1.Sum([]byte(SuperAuth))
	return SuperUser + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// Files in a server's directory.
const (
	configFile  = "zoo.cfg"
	log4jFile   = "log4j.properties"
	logbackFile = "logback.xml"
	logFile     = "zookeeper.log"
	dataSubdir  = "data"
)

// The server logs to its stdout, which goes to logFile, through log4j 1.2
// (Debian's package) or logback (the tarballs since 3.8): both files are
// written, each logging library reads its own. The pattern names the
// logger (%c, %logger) rather than the class and line (%C, %L), which walk
// the stack on every line.
const (
	log4jProperties = `log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%c{1}] - %m%n
`
	logbackXML = `<configuration>
  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{ISO8601} %-5level [%thread:%logger{0}] - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="CONSOLE"/></root>
</configuration>
`
)

// serverConfig returns the lines of zoo.cfg for s, a member of servers (a
// standalone server when servers has one element and s.id is 0).
func serverConfig(s *Server, servers []*Server, o *options) []string {
	tick := max(o.tickTime.Milliseconds(), 1)
	cfg := map[string]string{
		"tickTime":             strconv.FormatInt(tick, 10),
		"initLimit":            "20",
		"syncLimit":            "10",
		"dataDir":              filepath.Join(s.dir, dataSubdir),
		"minSessionTimeout":    strconv.FormatInt(2*tick, 10),
		"maxSessionTimeout":    strconv.FormatInt(max(60*time.Second.Milliseconds(), 2*tick), 10),
		"localSessionsEnabled": "false",
		"maxClientCnxns":       "0",
	}
	if s.id == 0 {
		cfg["clientPort"] = strconv.Itoa(s.clientPort)
		cfg["clientPortAddress"] = loopback
	} else {
		// The client address is part of each server line (the 3.5+
		// dynamic form); on first start the server moves these lines to
		// zoo.cfg.dynamic.<version> and rewrites zoo.cfg to point there.
		cfg["standaloneEnabled"] = "false"
		cfg["reconfigEnabled"] = strconv.FormatBool(o.reconfig)
		for _, m := range servers {
			key, value, _ := strings.Cut(m.ServerSpec(), "=")
			cfg[key] = value
		}
	}
	for k, v := range tlsConfig(s, o) {
		cfg[k] = v
	}
	for k, v := range o.config {
		cfg[k] = v
	}
	lines := make([]string, 0, len(cfg))
	for k, v := range cfg {
		lines = append(lines, k+"="+v)
	}
	slices.Sort(lines)
	return lines
}

// writeFiles writes the configuration, the logging configuration and (in
// an ensemble) the myid file into s's directory.
func writeFiles(s *Server, servers []*Server, o *options) error {
	data := filepath.Join(s.dir, dataSubdir)
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	if s.id != 0 {
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(s.id)+"\n"), 0o644); err != nil {
			return err
		}
	}
	for name, content := range map[string]string{log4jFile: log4jProperties, logbackFile: logbackXML} {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := writeJAAS(s, o); err != nil {
		return err
	}
	if err := writeTLSFiles(s, o); err != nil {
		return err
	}
	cfg := "# written by zktest\n" + strings.Join(serverConfig(s, servers, o), "\n") + "\n"
	return os.WriteFile(filepath.Join(s.dir, configFile), []byte(cfg), 0o644)
}

// systemProperties returns the server's Java system properties: the
// defaults, then those of WithSystemProperty, WithReadOnlyMode and the SASL
// options over them.
func systemProperties(s *Server, o *options) map[string]string {
	props := map[string]string{
		"log4j.configuration":                                "file:" + filepath.Join(s.dir, log4jFile),
		"logback.configurationFile":                          filepath.Join(s.dir, logbackFile),
		"zookeeper.log.dir":                                  s.dir,
		"zookeeper.jmx.log4j.disable":                        "true",
		"zookeeper.admin.enableServer":                       "false",
		"zookeeper.4lw.commands.whitelist":                   "*",
		"zookeeper.forceSync":                                "no",
		"zookeeper.extendedTypesEnabled":                     "true", // TTL nodes
		"zookeeper.DigestAuthenticationProvider.superDigest": superDigest(),
	}
	for k, v := range saslProperties(s, o) {
		props[k] = v
	}
	for k, v := range o.properties {
		props[k] = v
	}
	return props
}

// jvmArgs returns the java arguments that start s.
func jvmArgs(s *Server) []string {
	args := append([]string{"-cp", s.install.classpath, "-Xmx256m"}, jvm.QuickFlags...)
	if s.install.archive != "" {
		args = append(args, jvm.SharedArchiveFlag(s.install.archive))
	}
	props := systemProperties(s, s.opts)
	for _, name := range slices.Sorted(maps.Keys(props)) {
		args = append(args, "-D"+name+"="+props[name])
	}
	args = append(args, s.opts.jvmFlags...)
	return append(args, "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(s.dir, configFile))
}

// ServerSpec returns the server's line of the ensemble configuration,
// "server.<id>=127.0.0.1:<quorum port>:<election port>:participant;127.0.0.1:<client port>",
// the form Reconfig takes; "" for a standalone server.
func (s *Server) ServerSpec() string {
	if s.id == 0 {
		return ""
	}
	return fmt.Sprintf("server.%d=%s:%d:%d:participant;%s:%d",
		s.id, loopback, s.quorumPort, s.electionPort, loopback, s.clientPort)
}
