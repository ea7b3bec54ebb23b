package discovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// The JSON of an instance node, as curator-x-discovery's
// JsonInstanceSerializer writes and reads it (CURATOR.md §4).

// wireInstance has Curator's members in Curator's order; "enabled" comes
// last and only in full mode.
type wireInstance struct {
	Name                string          `json:"name"`
	ID                  string          `json:"id"`
	Address             string          `json:"address"`
	Port                *int            `json:"port"`
	SSLPort             *int            `json:"sslPort"`
	Payload             json.RawMessage `json:"payload"`
	RegistrationTimeUTC int64           `json:"registrationTimeUTC"`
	ServiceType         ServiceType     `json:"serviceType"`
	URISpec             *wireURISpec    `json:"uriSpec"`
	Enabled             *bool           `json:"enabled,omitempty"`
}

type wireURISpec struct {
	Parts []wirePart `json:"parts"`
}

type wirePart struct {
	Value    string `json:"value"`
	Variable bool   `json:"variable"`
}

// MarshalJSON writes the instance as Curator's default serializer does
// (JsonInstanceSerializer in compatible mode, without "enabled"), except
// that a disabled instance gets "enabled":false, which compatible mode
// would drop and every Curator 5 reader accepts.
func (s ServiceInstance) MarshalJSON() ([]byte, error) { return s.encode(false) }

// encode writes the instance; full writes "enabled" always, as
// JsonInstanceSerializer(payloadClass, false) does.
func (s ServiceInstance) encode(full bool) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	w := wireInstance{
		Name:                s.Name,
		ID:                  s.ID,
		Address:             s.Address,
		Port:                nullablePort(s.Port),
		SSLPort:             nullablePort(s.SSLPort),
		Payload:             s.Payload,
		RegistrationTimeUTC: s.RegistrationTimeUTC,
		ServiceType:         s.ServiceType,
	}
	if len(w.Payload) == 0 {
		w.Payload = nil // null
	}
	if s.URISpec != nil {
		w.URISpec = &wireURISpec{Parts: make([]wirePart, len(s.URISpec.Parts))} // never null: [] when empty
		for i, p := range s.URISpec.Parts {
			w.URISpec.Parts[i] = wirePart(p)
		}
	}
	if enabled := !s.Disabled; full || !enabled {
		w.Enabled = &enabled
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as Jackson: "<" stays "<"
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidInstance, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func nullablePort(port int) *int {
	if port == 0 {
		return nil
	}
	return &port
}

// UnmarshalJSON reads an instance as Curator's JsonInstanceSerializer
// does, so that whatever Java reads, Go reads the same: members may come
// in any order and with any spacing (Jackson's pretty printer writes
// "port" : 8080); unknown members are ignored; a missing member takes
// Curator's default (DYNAMIC, enabled, no port); null is a Java null;
// ports and times may also be numbers in strings, as Jackson coerces
// them. The service type is case-sensitive, as in Java. The payload is
// kept as raw JSON, compacted, whatever its "@class".
func (s *ServiceInstance) UnmarshalJSON(data []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidInstance, err)
	}
	if members == nil {
		return fmt.Errorf("%w: null", ErrInvalidInstance)
	}
	var inst ServiceInstance
	var err error
	read := func(member string, decode func(json.RawMessage) error) {
		if raw, ok := members[member]; ok && err == nil {
			if e := decode(raw); e != nil {
				err = fmt.Errorf("%w: %q: %w", ErrInvalidInstance, member, e)
			}
		}
	}
	read("name", stringInto(&inst.Name))
	read("id", stringInto(&inst.ID))
	read("address", stringInto(&inst.Address))
	read("port", portInto(&inst.Port))
	read("sslPort", portInto(&inst.SSLPort))
	read("payload", payloadInto(&inst.Payload))
	read("registrationTimeUTC", func(raw json.RawMessage) error {
		v, err := javaInteger(raw, math.MinInt64, math.MaxInt64)
		inst.RegistrationTimeUTC = v
		return err
	})
	read("serviceType", func(raw json.RawMessage) error {
		if isNull(raw) {
			return nil // Java's null: the default
		}
		return json.Unmarshal(raw, &inst.ServiceType)
	})
	read("uriSpec", uriSpecInto(&inst.URISpec))
	read("enabled", func(raw json.RawMessage) error {
		enabled, err := javaBoolean(raw)
		inst.Disabled = !enabled
		return err
	})
	if err != nil {
		return err
	}
	*s = inst
	return nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func stringInto(dst *string) func(json.RawMessage) error {
	return func(raw json.RawMessage) error {
		if isNull(raw) {
			return nil
		}
		return json.Unmarshal(raw, dst)
	}
}

func portInto(dst *int) func(json.RawMessage) error {
	return func(raw json.RawMessage) error {
		v, err := javaInteger(raw, math.MinInt32, math.MaxInt32)
		*dst = int(v)
		return err
	}
}

// javaInteger reads a Java integer member: null (0), a JSON number
// without a fraction, or a string holding one, within [lo, hi].
func javaInteger(raw json.RawMessage, lo, hi int64) (int64, error) {
	if isNull(raw) {
		return 0, nil
	}
	var text string
	if json.Unmarshal(raw, &text) != nil {
		text = string(bytes.TrimSpace(raw))
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%s is not an integer in [%d, %d]", raw, lo, hi)
	}
	return v, nil
}

// javaBoolean reads a Java boolean member: true, false, or the strings
// "true" and "false", as Jackson coerces them; null is false, as Jackson
// reads it into a primitive.
func javaBoolean(raw json.RawMessage) (bool, error) {
	if isNull(raw) {
		return false, nil
	}
	var text string
	if json.Unmarshal(raw, &text) != nil {
		text = string(bytes.TrimSpace(raw))
	}
	switch text {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s is not a boolean", raw)
}

func payloadInto(dst *json.RawMessage) func(json.RawMessage) error {
	return func(raw json.RawMessage) error {
		if isNull(raw) {
			return nil
		}
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return err
		}
		*dst = b.Bytes()
		return nil
	}
}

func uriSpecInto(dst **URISpec) func(json.RawMessage) error {
	return func(raw json.RawMessage) error {
		if isNull(raw) {
			return nil
		}
		var w wireURISpec
		if err := json.Unmarshal(raw, &w); err != nil {
			return err
		}
		spec := &URISpec{}
		for _, p := range w.Parts {
			spec.Parts = append(spec.Parts, URIPart(p))
		}
		*dst = spec
		return nil
	}
}
