//go:build !race

// Allocation counts are pinned in builds without the race detector, which
// changes them.

package koogallery

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadBodyAllocations(t *testing.T) {
	body := strings.Repeat("x", 1000)
	rd := strings.NewReader(body)
	resp := &http.Response{ContentLength: 1000, Body: io.NopCloser(rd)}
	allocs := testing.AllocsPerRun(50, func() {
		rd.Reset(body)
		if _, err := readBody(resp, 1<<20); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 1.0, allocs, "one buffer when the length is announced")
}
