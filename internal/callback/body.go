package callback

import (
	"errors"
	"io"
	"math/bits"
	"net/http"
	"sync"
)

// Body buffers come from pools of power-of-two capacities, from
// minBodyCap up. A body is read into the smallest and moved to the next
// class up each time it fills, so a buffer is never more than twice what
// has arrived, whatever Content-Length claims.
const (
	minBodyShift = 10 // 1 KiB
	maxBodyShift = 30 // 1 GiB: larger buffers are not pooled
	minBodyCap   = 1 << minBodyShift
)

var bodyPools [maxBodyShift - minBodyShift + 1]sync.Pool // of *[]byte

// getBody returns an empty buffer of at least minBodyCap bytes.
func getBody() []byte { return getBodyCap(minBodyCap) }

// getBodyCap returns an empty buffer whose capacity is n rounded up to a
// power of two.
func getBodyCap(n int) []byte {
	shift := minBodyShift
	if n > minBodyCap {
		shift = bits.Len(uint(n - 1))
	}
	if shift > maxBodyShift {
		return make([]byte, 0, n)
	}
	if p, _ := bodyPools[shift-minBodyShift].Get().(*[]byte); p != nil {
		return (*p)[:0]
	}
	return make([]byte, 0, 1<<shift)
}

// putBody returns b to its pool; b must not be used afterwards.
func putBody(b []byte) {
	c := cap(b)
	if c < minBodyCap || c&(c-1) != 0 {
		return // not one of ours
	}
	shift := bits.Len(uint(c)) - 1
	if shift > maxBodyShift {
		return
	}
	b = b[:0]
	bodyPools[shift-minBodyShift].Put(&b)
}

var errTooLarge = errors.New("body too large")

// readBodyInto reads r's body into buf (nil for a pooled one), refusing
// more than maxBytes. A declared length over the limit is refused without
// reading; otherwise the declaration is ignored, and the buffer grows by
// doubling as bytes arrive, so that a peer that declares a large body and
// stalls holds no more memory than it sent. The result is pooled (see
// putBody) even on error.
func readBodyInto(r *http.Request, buf []byte, maxBytes int64) ([]byte, error) {
	if buf == nil {
		buf = getBody()
	}
	if r.ContentLength > maxBytes {
		return buf, errTooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		return buf, nil
	}
	limit := maxBytes + 1 // one more to see that the body is too large
	for {
		if int64(len(buf)) >= limit {
			return buf, errTooLarge
		}
		if len(buf) == cap(buf) {
			grown := getBodyCap(2 * cap(buf))
			grown = append(grown, buf...)
			putBody(buf)
			buf = grown
		}
		end := cap(buf)
		if int64(end) > limit {
			end = int(limit)
		}
		n, err := r.Body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if int64(len(buf)) > maxBytes {
				return buf, errTooLarge
			}
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
