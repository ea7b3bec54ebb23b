package serialize

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// ReadFrame returns each body of a stream of frames, refuses a length over
// the maximum without reading on, and reports a stream cut short.
func TestReadFrame(t *testing.T) {
	var stream []byte
	for _, body := range []string{"first", "", "third"} {
		var start int
		stream, start = BeginFrame(stream)
		var err error
		if stream, err = FinishFrame(append(stream, body...), start, 16); err != nil {
			t.Fatal(err)
		}
	}
	r := bytes.NewReader(stream)
	for _, want := range []string{"first", "", "third"} {
		if got, err := ReadFrame(r, 16); err != nil || string(got) != want {
			t.Fatalf("ReadFrame = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := ReadFrame(r, 16); !errors.Is(err, io.EOF) {
		t.Errorf("ReadFrame at the end = %v, want io.EOF", err)
	}

	var tooLarge *FrameTooLargeError
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 17, 'x'}), 16); !errors.As(err, &tooLarge) || tooLarge.Len != 17 {
		t.Errorf("ReadFrame of a 17-byte frame with a maximum of 16 = %v, want *FrameTooLargeError", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 5, 'a', 'b'}), 16); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadFrame of a cut body = %v, want io.ErrUnexpectedEOF", err)
	}
}
