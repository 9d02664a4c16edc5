package callback

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trickle delivers its bytes a few at a time, as a slow peer does.
type trickle struct {
	data []byte
	step int
}

func (t *trickle) Read(p []byte) (int, error) {
	if len(t.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), t.step)], t.data)
	t.data = t.data[n:]
	return n, nil
}

// A declared Content-Length is a claim, not a reason to allocate: the buffer
// grows with the bytes that actually arrive.
func TestReadBodyIgnoresDeclaredLength(t *testing.T) {
	t.Parallel()
	for _, declared := range []int64{1 << 20, 4 << 20, -1} {
		req := httptest.NewRequest(http.MethodPost, "/", &trickle{data: []byte(`{"a":"b"}`), step: 3})
		req.ContentLength = declared
		box, err := readBodyInto(req, nil, 4<<20)
		require.NoError(t, err)
		buf := *box
		assert.Equal(t, `{"a":"b"}`, string(buf))
		assert.LessOrEqual(t, cap(buf), 4<<10, "declared %d: buffer sized from the declaration", declared)
		putBody(box)
	}
}

func TestReadBodyGrowsToTheLimit(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 1, 1023, 1024, 1025, 4096, 100_000, 1 << 20} {
		data := bytes.Repeat([]byte("x"), size)
		for _, step := range []int{1 << 30, 7} {
			if size > 200_000 && step < 1000 {
				continue
			}
			req := httptest.NewRequest(http.MethodPost, "/", &trickle{data: data, step: step})
			box, err := readBodyInto(req, getBody(0), 1<<20)
			require.NoError(t, err, "size %d", size)
			buf := *box
			assert.Equal(t, size, len(buf))
			assert.True(t, bytes.Equal(data, buf))
			assert.LessOrEqual(t, cap(buf), max(2*size, 4<<10)+1, "size %d: at most twice what arrived", size)
			putBody(box)
		}
	}
	over := strings.Repeat("x", 1<<20+1)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(over))
	req.ContentLength = -1
	_, err := readBodyInto(req, nil, 1<<20)
	assert.ErrorIs(t, err, errTooLarge)
}
