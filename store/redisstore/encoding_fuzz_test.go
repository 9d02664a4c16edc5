package redisstore

import (
	"testing"

	"github.com/isvkit/koogallery/store"
)

// FuzzRecordEncoding checks that every record survives the value layout
// (any InstanceID bytes, either Pending) and that a stored value reads as
// at most one record, the one that encodes to it, and never as a claim.
func FuzzRecordEncoding(f *testing.F) {
	for _, s := range []string{"", "c", "c0123456789abcdef", "r0", "r1", "r0i-1", "r2", "x", "r1\x00\xff", "C"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, pending bool) {
		r := &store.Record{InstanceID: s, Pending: pending}
		v := encode(r)
		if isClaim(v) {
			t.Fatalf("record %+v encodes as a claim", r)
		}
		got, ok := decode(v)
		if !ok || *got != *r {
			t.Fatalf("record %+v read back as %+v (ok %v)", r, got, ok)
		}
		// s as a stored value.
		if got, ok := decode(s); ok {
			if isClaim(s) {
				t.Fatal("a claim read as a record")
			}
			if encode(got) != s {
				t.Fatalf("value %q reads as %+v, which encodes as %q", s, got, encode(got))
			}
		}
	})
}
