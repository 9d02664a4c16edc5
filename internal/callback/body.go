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

// bodyPools hold boxed buffers: a buffer stays in the box it was made
// with, so that returning it allocates nothing.
var bodyPools [maxBodyShift - minBodyShift + 1]sync.Pool // of *[]byte

// getBody returns a box holding an empty buffer whose capacity is n
// rounded up to a power of two, at least minBodyCap.
func getBody(n int) *[]byte {
	shift := minBodyShift
	if n > minBodyCap {
		shift = bits.Len(uint(n - 1))
	}
	if shift > maxBodyShift {
		b := make([]byte, 0, n)
		return &b
	}
	if p, _ := bodyPools[shift-minBodyShift].Get().(*[]byte); p != nil {
		*p = (*p)[:0]
		return p
	}
	b := make([]byte, 0, 1<<shift)
	return &b
}

// putBody returns the box p to its pool; neither it nor the buffer it
// holds may be used afterwards.
func putBody(p *[]byte) {
	c := cap(*p)
	if c < minBodyCap || c&(c-1) != 0 {
		return // not one of ours
	}
	shift := bits.Len(uint(c)) - 1
	if shift > maxBodyShift {
		return
	}
	*p = (*p)[:0]
	bodyPools[shift-minBodyShift].Put(p)
}

var errTooLarge = errors.New("body too large")

// readBodyInto reads r's body into the buffer in box p (nil for a pooled
// one), refusing more than maxBytes, and returns the box then holding the
// body. A declared length over the limit is refused without reading;
// otherwise the declaration is ignored, and the buffer grows by doubling as
// bytes arrive, so that a peer that declares a large body and stalls holds
// no more memory than it sent. The box is pooled (see putBody) even on
// error.
func readBodyInto(r *http.Request, p *[]byte, maxBytes int64) (*[]byte, error) {
	if p == nil {
		p = getBody(minBodyCap)
	}
	if r.ContentLength > maxBytes {
		return p, errTooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		return p, nil
	}
	buf := *p
	limit := maxBytes + 1 // one more to see that the body is too large
	for {
		if int64(len(buf)) >= limit {
			*p = buf
			return p, errTooLarge
		}
		if len(buf) == cap(buf) {
			q := getBody(2 * cap(buf))
			*q = append(*q, buf...)
			putBody(p)
			p, buf = q, *q
		}
		end := cap(buf)
		if int64(end) > limit {
			end = int(limit)
		}
		n, err := r.Body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			*p = buf
			if int64(len(buf)) > maxBytes {
				return p, errTooLarge
			}
			return p, nil
		}
		if err != nil {
			*p = buf
			return p, err
		}
	}
}
