package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zkloop/zkloop/zhandle"
)

// A ServiceInstance is one instance of a service, as curator-x-discovery's
// ServiceInstance holds it and as its JsonInstanceSerializer writes it into
// the instance's node. Zero fields mean what Curator's builder leaves
// unset: no port, no payload, a DYNAMIC instance, enabled.
type ServiceInstance struct {
	// Name is the service's name, the node under the base path; case
	// matters, and it may not contain '/'.
	Name string
	// ID names the instance's node under the service ("id"). Register
	// makes a random UUID for an empty ID, as Curator's builder does.
	ID string
	// Address is where the instance listens, a host name or IP address.
	Address string
	// Port and SSLPort are the instance's ports; 0 is no port (JSON null,
	// a Java Integer left null).
	Port, SSLPort int
	// Payload is the application's data, raw JSON: nil is null. Curator
	// reads an object payload into the Java class that its "@class"
	// member names; NewPayload writes one.
	Payload json.RawMessage
	// RegistrationTimeUTC is when the instance was made, in milliseconds
	// since the Unix epoch; Register sets it when it is 0.
	RegistrationTimeUTC int64
	// ServiceType says what kind of node holds the instance.
	ServiceType ServiceType
	// URISpec, if not nil, is how to make the instance's URI.
	URISpec *URISpec
	// Disabled marks an instance that providers do not hand out: Curator's
	// "enabled" false.
	Disabled bool
}

// ServiceType is the kind of an instance (Curator's ServiceType), which
// decides the kind of its node.
type ServiceType int32

const (
	// Dynamic (DYNAMIC): an ephemeral node, gone with the session that
	// registered it. The zero value, and Curator's default.
	Dynamic ServiceType = iota
	// Static (STATIC): a persistent node.
	Static
	// Permanent (PERMANENT): a persistent node.
	Permanent
	// DynamicSequential (DYNAMIC_SEQUENTIAL): an ephemeral sequential
	// node, named after the id with the server's 10-digit suffix.
	DynamicSequential
)

var serviceTypeNames = [...]string{"DYNAMIC", "STATIC", "PERMANENT", "DYNAMIC_SEQUENTIAL"}

// String returns the Java enum name ("DYNAMIC").
func (t ServiceType) String() string {
	if t.valid() {
		return serviceTypeNames[t]
	}
	return "ServiceType(" + strconv.Itoa(int(t)) + ")"
}

func (t ServiceType) valid() bool { return t >= 0 && int(t) < len(serviceTypeNames) }

// MarshalText returns the Java enum name, which is what Curator writes.
func (t ServiceType) MarshalText() ([]byte, error) {
	if !t.valid() {
		return nil, fmt.Errorf("discovery: unknown %v", t)
	}
	return []byte(serviceTypeNames[t]), nil
}

// UnmarshalText reads a Java enum name. Like Jackson, it is
// case-sensitive: "dynamic" is an error.
func (t *ServiceType) UnmarshalText(text []byte) error {
	for i, name := range serviceTypeNames {
		if string(text) == name {
			*t = ServiceType(i)
			return nil
		}
	}
	return fmt.Errorf("discovery: unknown service type %q (names are upper case: DYNAMIC, STATIC, PERMANENT, DYNAMIC_SEQUENTIAL)", text)
}

// createMode is the mode of the instance's node.
func (t ServiceType) createMode() zhandle.CreateMode {
	switch t {
	case Dynamic:
		return zhandle.Ephemeral
	case DynamicSequential:
		return zhandle.EphemeralSequential
	}
	return zhandle.Persistent
}

// A URISpec is a template of an instance's URI (Curator's UriSpec): a
// list of literal parts and variables, such as the parts of
// "{scheme}://{address}:{port}".
type URISpec struct {
	Parts []URIPart
}

// A URIPart is a literal text or, with Variable, the name of a variable.
type URIPart struct {
	Value    string
	Variable bool
}

// ParseURISpec splits a template into its parts as Curator's UriSpec
// constructor does: "{name}" is a variable, anything else literal text.
// Braces must pair up, without nesting.
func ParseURISpec(template string) (URISpec, error) {
	var spec URISpec
	rest := template
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			spec.Parts = append(spec.Parts, URIPart{Value: rest})
			break
		}
		if rest[open] == '}' {
			return URISpec{}, fmt.Errorf("discovery: URI template %q: } must be preceded by {", template)
		}
		if open > 0 {
			spec.Parts = append(spec.Parts, URIPart{Value: rest[:open]})
		}
		rest = rest[open+1:]
		end := strings.IndexAny(rest, "{}")
		if end < 0 || rest[end] == '{' {
			return URISpec{}, fmt.Errorf("discovery: URI template %q: a variable is not closed with }", template)
		}
		if end > 0 {
			spec.Parts = append(spec.Parts, URIPart{Value: rest[:end], Variable: true})
		}
		rest = rest[end+1:]
	}
	return spec, nil
}

// String returns the template the spec was parsed from.
func (s URISpec) String() string {
	var b strings.Builder
	for _, p := range s.Parts {
		if p.Variable {
			b.WriteString("{" + p.Value + "}")
		} else {
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// Build makes the URI of inst as Curator's UriSpec.build does. The
// variables it knows are "scheme" ("https" when the instance has an SSL
// port, else "http"), "name", "id", "address", "port", "ssl-port",
// "registration-time-utc", "service-type" (lower case), and "[" and "]"
// for literal braces; vars adds others or overrides these. A variable
// without a value is left out, as is a port of 0.
func (s URISpec) Build(inst ServiceInstance, vars map[string]string) string {
	var b strings.Builder
	for _, p := range s.Parts {
		if !p.Variable {
			b.WriteString(p.Value)
			continue
		}
		if v, ok := vars[p.Value]; ok {
			b.WriteString(v)
			continue
		}
		b.WriteString(builtinVariable(inst, p.Value))
	}
	return b.String()
}

// builtinVariable is the value of one of UriSpec's own variables.
func builtinVariable(inst ServiceInstance, name string) string {
	switch name {
	case "[":
		return "{"
	case "]":
		return "}"
	case "scheme":
		if inst.SSLPort != 0 {
			return "https"
		}
		return "http"
	case "name":
		return inst.Name
	case "id":
		return inst.ID
	case "address":
		return inst.Address
	case "port":
		return portText(inst.Port)
	case "ssl-port":
		return portText(inst.SSLPort)
	case "registration-time-utc":
		return strconv.FormatInt(inst.RegistrationTimeUTC, 10)
	case "service-type":
		return strings.ToLower(inst.ServiceType.String())
	}
	return ""
}

func portText(port int) string {
	if port == 0 {
		return ""
	}
	return strconv.Itoa(port)
}

// NewPayload returns v as a payload that Curator reads into the Java
// class named class: v's JSON object with "@class" as its first member,
// as Jackson writes a polymorphic value. v must encode to a JSON object
// (a struct or a map) without an "@class" of its own. With class "", it
// returns v's JSON as it is, which is how Jackson writes the natural
// types (a String, a number, a boolean).
func NewPayload(class string, v any) (json.RawMessage, error) {
	data, err := json.Marshal(v)
	if err != nil || class == "" {
		return data, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil || members == nil {
		return nil, fmt.Errorf("discovery: a payload of class %s must be a JSON object, not %s", class, data)
	}
	if _, ok := members[classMember]; ok {
		return nil, fmt.Errorf("discovery: the payload has an %q member of its own", classMember)
	}
	name, err := json.Marshal(class)
	if err != nil {
		return nil, err
	}
	payload := append([]byte(`{"`+classMember+`":`), name...)
	if rest := bytes.TrimSpace(data[1:]); rest[0] != '}' {
		payload = append(payload, ',')
	}
	return append(payload, data[1:]...), nil
}

// classMember is the member that names a payload's Java class
// (JsonTypeInfo.Id.CLASS).
const classMember = "@class"

// PayloadClass returns the Java class an object payload names in its
// "@class" member, or "" when it names none.
func PayloadClass(payload json.RawMessage) string {
	var tagged struct {
		Class string `json:"@class"`
	}
	if json.Unmarshal(payload, &tagged) != nil {
		return ""
	}
	return tagged.Class
}

// Errors of the service instances.
var (
	// ErrInvalidInstance wraps what is wrong with an instance that cannot
	// be written, or with a node that cannot be read as one.
	ErrInvalidInstance = errors.New("discovery: invalid service instance")
)

// check reports what keeps the instance from being registered.
func (s *ServiceInstance) check() error {
	switch {
	case s.Name == "" || strings.Contains(s.Name, "/"):
		return fmt.Errorf("%w: name %q is not a node name", ErrInvalidInstance, s.Name)
	case s.ID == "" || strings.Contains(s.ID, "/"):
		return fmt.Errorf("%w: id %q is not a node name", ErrInvalidInstance, s.ID)
	case s.Port < 0 || s.Port > 65535 || s.SSLPort < 0 || s.SSLPort > 65535:
		return fmt.Errorf("%w: port %d or SSL port %d out of range", ErrInvalidInstance, s.Port, s.SSLPort)
	case !s.ServiceType.valid():
		return fmt.Errorf("%w: %v", ErrInvalidInstance, s.ServiceType)
	case len(s.Payload) > 0 && !json.Valid(s.Payload):
		return fmt.Errorf("%w: the payload is not JSON", ErrInvalidInstance)
	}
	return nil
}
