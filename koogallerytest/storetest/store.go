package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isvkit/koogallery/store"
)

// Durations of the store suites. Expiry is checked only in the safe
// directions: an entry is live right after it was written with long, and
// gone once short plus expiryMargin has passed; nothing is timed closer than
// that, so a loaded machine slows the suites down without failing them.
const (
	storeLong         = 5 * time.Minute
	storeShort        = 2 * time.Second
	storeExpiryMargin = 2 * time.Second
	storeClaimers     = 1000
	storeManyKeys     = 2000
	storeMaxKeyLen    = 512
	storeLongValueLen = 64 << 10
)

// RunStore checks an implementation of store.Store against the contract in
// the store package's documentation, in parallel subtests: exactly one
// winner among 1,000 concurrent claimers; lease expiry and takeover; release
// of claims only; Complete replacing claims and pending records; expiry of
// records; context cancellation; InstanceIDs of every byte value and of
// 64 KiB; many distinct keys; keys of 512 bytes.
//
// newStore is called once per subtest. The stores it returns may share
// their backend (one Redis, one database): every subtest uses keys no other
// run uses. Run it under -race. Its expiry checks wait once for a 2 s lease
// plus a 2 s margin, so it takes about 4 s.
//
//	func TestMyStore(t *testing.T) {
//		storetest.RunStore(t, func(t *testing.T) store.Store { return newMyStore(t) })
//	}
func RunStore(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	run := uniqueRun(t)
	t.Run("Store", func(t *testing.T) {
		for _, tc := range storeCases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := newStore(t)
				if s == nil {
					t.Fatal("newStore returned nil")
				}
				tc.f(t, s, run+"/"+tc.name+"/")
			})
		}
	})
}

// RunReplayCache checks an implementation of store.ReplayCache against
// the contract in the store package's documentation, in parallel subtests:
// exactly one winner among 1,000 concurrent adders of one key; a second Add
// refused while the key is live; expiry after ttl; context cancellation;
// many distinct keys; keys of 512 bytes. newCache is called once per
// subtest; as with RunStore the caches may share their backend.
func RunReplayCache(t *testing.T, newCache func(t *testing.T) store.ReplayCache) {
	t.Helper()
	run := uniqueRun(t)
	t.Run("ReplayCache", func(t *testing.T) {
		for _, tc := range replayCases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				c := newCache(t)
				if c == nil {
					t.Fatal("newCache returned nil")
				}
				tc.f(t, c, run+"/"+tc.name+"/")
			})
		}
	})
}

// uniqueRun returns a key prefix no other run uses, so that suites sharing
// a backend with earlier runs (or with each other) never see a stale key.
func uniqueRun(t *testing.T) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random key prefix: %v", err)
	}
	return "kgtest/" + hex.EncodeToString(b[:])
}

var storeCases = []struct {
	name string
	f    func(t *testing.T, s store.Store, k string)
}{
	{"ClaimThenRefuse", storeClaimThenRefuse},
	{"OneWinnerAmongConcurrentClaimers", storeOneWinner},
	{"Expiry", storeExpiry},
	{"ReleaseOnlyClaims", storeReleaseOnlyClaims},
	{"CompleteReplaces", storeCompleteReplaces},
	{"RecordsAreCopies", storeRecordsAreCopies},
	{"ContextCancelled", storeContextCancelled},
	{"ValuesOfEveryByte", storeEveryByte},
	{"ManyDistinctKeys", storeManyDistinctKeys},
	{"LongKeys", storeLongKeys},
}

var replayCases = []struct {
	name string
	f    func(t *testing.T, c store.ReplayCache, k string)
}{
	{"AddThenRefuse", replayAddThenRefuse},
	{"OneWinnerAmongConcurrentAdders", replayOneWinner},
	{"Expiry", replayExpiry},
	{"ContextCancelled", replayContextCancelled},
	{"ManyDistinctKeys", replayManyDistinctKeys},
	{"LongKeys", replayLongKeys},
}

// claim calls s.Claim and fails the test on an error.
func claim(t *testing.T, s store.Store, key string, lease time.Duration) (*store.Record, bool) {
	t.Helper()
	rec, ok, err := s.Claim(context.Background(), key, lease)
	if err != nil {
		t.Fatalf("Claim(%s): %v", keyName(key), err)
	}
	if ok && rec != nil {
		t.Fatalf("Claim(%s) claimed the key and also returned a record %s", keyName(key), describe(rec))
	}
	return rec, ok
}

func complete(t *testing.T, s store.Store, key string, r store.Record, keep time.Duration) {
	t.Helper()
	if err := s.Complete(context.Background(), key, &r, keep); err != nil {
		t.Fatalf("Complete(%s, %s): %v", keyName(key), describe(&r), err)
	}
}

func release(t *testing.T, s store.Store, key string) {
	t.Helper()
	if err := s.Release(context.Background(), key); err != nil {
		t.Fatalf("Release(%s): %v", keyName(key), err)
	}
}

// wantClaimed asserts that key can be claimed now.
func wantClaimed(t *testing.T, s store.Store, key, why string) {
	t.Helper()
	rec, ok := claim(t, s, key, storeLong)
	if !ok {
		t.Fatalf("%s: Claim(%s) = (%v, false), want a new claim", why, keyName(key), describe(rec))
	}
}

// wantHeld asserts that key is claimed by someone else.
func wantHeld(t *testing.T, s store.Store, key, why string) {
	t.Helper()
	rec, ok := claim(t, s, key, storeLong)
	if ok || rec != nil {
		t.Fatalf("%s: Claim(%s) = (%v, %v), want (nil, false): the key is claimed", why, keyName(key), describe(rec), ok)
	}
}

// wantRecord asserts that key holds want.
func wantRecord(t *testing.T, s store.Store, key string, want store.Record, why string) {
	t.Helper()
	rec, ok := claim(t, s, key, storeLong)
	if ok || rec == nil {
		t.Fatalf("%s: Claim(%s) = (%v, %v), want the record %s", why, keyName(key), describe(rec), ok, describe(&want))
	}
	if *rec != want {
		t.Fatalf("%s: Claim(%s) returned the record %s, want %s", why, keyName(key), describe(rec), describe(&want))
	}
}

// keyName shows a key in a message: its end, where the suites' keys
// differ, after the run's prefix.
func keyName(key string) string {
	if i := strings.Index(key, "/"); i >= 0 && strings.HasPrefix(key, "kgtest/") {
		if j := strings.Index(key[i+1:], "/"); j >= 0 {
			key = key[i+1+j+1:]
		}
	}
	if len(key) > 60 {
		return fmt.Sprintf("…%q (%d bytes)", key[len(key)-40:], len(key))
	}
	return fmt.Sprintf("%q", key)
}

func describe(r *store.Record) string {
	if r == nil {
		return "nil"
	}
	id := r.InstanceID
	if len(id) > 40 {
		id = fmt.Sprintf("%q… (%d bytes)", id[:40], len(id))
	} else {
		id = fmt.Sprintf("%q", id)
	}
	return fmt.Sprintf("{InstanceID:%s Pending:%v}", id, r.Pending)
}

func storeClaimThenRefuse(t *testing.T, s store.Store, k string) {
	wantClaimed(t, s, k+"a", "an absent key")
	wantHeld(t, s, k+"a", "a key claimed just now")
	wantHeld(t, s, k+"a", "a key claimed just now, asked again")
	wantClaimed(t, s, k+"b", "another absent key")
}

func storeOneWinner(t *testing.T, s store.Store, k string) {
	key := k + "storm"
	var (
		wins, held atomic.Int64
		errs       = make(chan error, storeClaimers)
		start      = make(chan struct{})
		wg         sync.WaitGroup
	)
	for range storeClaimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rec, ok, err := s.Claim(context.Background(), key, storeLong)
			switch {
			case err != nil:
				errs <- err
			case ok:
				wins.Add(1)
			case rec != nil:
				errs <- fmt.Errorf("a claimed key returned the record %s", describe(rec))
			default:
				held.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Claim: %v", err)
	}
	if wins.Load() != 1 || held.Load() != storeClaimers-1 {
		t.Fatalf("%d concurrent claims of one key: %d won and %d were told it is claimed; want exactly 1 winner",
			storeClaimers, wins.Load(), held.Load())
	}
	// Once the winner completes, concurrent callers all read its record.
	want := store.Record{InstanceID: "storm-instance"}
	complete(t, s, key, want, storeLong)
	var wg2 sync.WaitGroup
	bad := make(chan string, storeClaimers)
	for range storeClaimers / 10 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			rec, ok, err := s.Claim(context.Background(), key, storeLong)
			if err != nil || ok || rec == nil || *rec != want {
				bad <- fmt.Sprintf("(%s, %v, %v)", describe(rec), ok, err)
			}
		}()
	}
	wg2.Wait()
	close(bad)
	for b := range bad {
		t.Errorf("Claim of a completed key = %s, want the record %s", b, describe(&want))
	}
}

func storeReleaseOnlyClaims(t *testing.T, s store.Store, k string) {
	// A released claim can be claimed again.
	wantClaimed(t, s, k+"claim", "an absent key")
	release(t, s, k+"claim")
	wantClaimed(t, s, k+"claim", "a released claim")

	// Releasing absent keys is not an error, twice.
	release(t, s, k+"absent")
	release(t, s, k+"absent")
	wantClaimed(t, s, k+"absent", "a key only ever released")

	// Release leaves records alone, final or pending.
	for _, r := range []store.Record{{InstanceID: "final"}, {InstanceID: "pending", Pending: true}, {}} {
		key := k + "record-" + r.InstanceID
		wantClaimed(t, s, key, "an absent key")
		complete(t, s, key, r, storeLong)
		release(t, s, key)
		wantRecord(t, s, key, r, "a record after Release")
	}

	// A record written without a claim is not released either.
	complete(t, s, k+"unclaimed", store.Record{InstanceID: "x"}, storeLong)
	release(t, s, k+"unclaimed")
	wantRecord(t, s, k+"unclaimed", store.Record{InstanceID: "x"}, "an unclaimed record after Release")
}

func storeCompleteReplaces(t *testing.T, s store.Store, k string) {
	key := k + "replace"
	wantClaimed(t, s, key, "an absent key")
	pending := store.Record{InstanceID: "i-1", Pending: true}
	complete(t, s, key, pending, storeLong)
	wantRecord(t, s, key, pending, "a pending record replacing a claim")
	final := store.Record{InstanceID: "i-1"}
	complete(t, s, key, final, storeLong)
	wantRecord(t, s, key, final, "a final record replacing a pending one")
	other := store.Record{InstanceID: "i-2", Pending: true}
	complete(t, s, key, other, storeLong)
	wantRecord(t, s, key, other, "a record replacing a final one")

	// An empty record is a record, not a claim.
	complete(t, s, k+"empty", store.Record{}, storeLong)
	wantRecord(t, s, k+"empty", store.Record{}, "an empty record")
	complete(t, s, k+"empty-pending", store.Record{Pending: true}, storeLong)
	wantRecord(t, s, k+"empty-pending", store.Record{Pending: true}, "an empty pending record")
}

// storeExpiry checks lease expiry and takeover, a Complete after the lease,
// and record expiry, with one wait for all of them.
func storeExpiry(t *testing.T, s store.Store, k string) {
	lease, late := k+"lease", k+"late"
	pending := store.Record{InstanceID: "p", Pending: true}
	final := store.Record{InstanceID: "f"}
	for _, key := range []string{lease, late} {
		if _, ok := claim(t, s, key, storeShort); !ok {
			t.Fatal("Claim of an absent key did not claim it")
		}
	}
	complete(t, s, k+"pending", pending, storeShort)
	complete(t, s, k+"final", final, storeShort)
	complete(t, s, k+"kept", final, storeLong)
	if _, ok := claim(t, s, k+"held", storeLong); !ok {
		t.Fatal("Claim of an absent key did not claim it")
	}
	wantHeld(t, s, lease, "right after a claim with a 2 s lease")
	wantRecord(t, s, k+"pending", pending, "right after Complete with a 2 s keep")
	wantRecord(t, s, k+"final", final, "right after Complete with a 2 s keep")

	time.Sleep(storeShort + storeExpiryMargin)

	// The claim's holder is presumed dead: exactly one of the next callers
	// takes the key over.
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, ok, err := s.Claim(context.Background(), lease, storeLong)
			if err != nil {
				t.Errorf("Claim after the lease: %v", err)
			}
			if ok {
				wins.Add(1)
			} else if rec != nil {
				t.Errorf("Claim after the lease returned a record %s", describe(rec))
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("after the lease ran out, %d of 50 concurrent callers took the claim over; want exactly 1", wins.Load())
	}
	wantHeld(t, s, lease, "after the takeover")

	// The holder of the other claim finished late: its record is kept.
	want := store.Record{InstanceID: "late"}
	complete(t, s, late, want, storeLong)
	wantRecord(t, s, late, want, "a record completed after its claim's lease")

	wantClaimed(t, s, k+"pending", "a pending record after its keep")
	wantClaimed(t, s, k+"final", "a final record after its keep")
	wantRecord(t, s, k+"kept", final, "a record kept 5 minutes, 4 s later")
	wantHeld(t, s, k+"held", "a claim with a 5-minute lease, 4 s later")
}

func storeRecordsAreCopies(t *testing.T, s store.Store, k string) {
	key := k + "copy"
	r := &store.Record{InstanceID: "original"}
	if err := s.Complete(context.Background(), key, r, storeLong); err != nil {
		t.Fatal(err)
	}
	r.InstanceID, r.Pending = "changed after Complete", true
	got, _ := claim(t, s, key, storeLong)
	if got == nil {
		t.Fatal("no record after Complete")
	}
	got.InstanceID = "changed by a reader"
	wantRecord(t, s, key, store.Record{InstanceID: "original"}, "a record whose writer and reader changed their copies")
}

func storeContextCancelled(t *testing.T, s store.Store, k string) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"cancelled", cancelled}, {"past deadline", expired}} {
		rec := &store.Record{InstanceID: "x"}
		calls := []struct {
			name string
			f    func() error
		}{
			{"Claim", func() error { _, _, err := s.Claim(c.ctx, k+"claim", storeLong); return err }},
			{"Complete", func() error { return s.Complete(c.ctx, k+"complete", rec, storeLong) }},
			{"Release", func() error { return s.Release(c.ctx, k+"release") }},
		}
		for _, call := range calls {
			checkCancelled(t, c.ctx, c.name, call.name, call.f)
		}
	}
	// The store still works with a live context.
	wantClaimed(t, s, k+"after", "a key claimed after cancelled calls")
}

// checkCancelled runs f with a done ctx and checks it returns promptly an
// error wrapping ctx.Err().
func checkCancelled(t *testing.T, ctx context.Context, ctxName, name string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("%s with a %s context returned no error", name, ctxName)
		} else if !errors.Is(err, ctx.Err()) {
			t.Errorf("%s with a %s context returned %v, which does not wrap %v", name, ctxName, err, ctx.Err())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s with a %s context still running after 10 s", name, ctxName)
	}
}

func storeEveryByte(t *testing.T, s store.Store, k string) {
	var all [256]byte
	for i := range all {
		all[i] = byte(i)
	}
	long := make([]byte, storeLongValueLen)
	for i := range long {
		long[i] = byte(i*7 + i>>8)
	}
	values := map[string]string{
		"all-bytes":   string(all[:]),
		"all-reverse": reverse(string(all[:])),
		"long":        string(long),
		"nul":         "\x00",
		"nuls":        "\x00\x00i-1\x00",
		"invalid-utf": "\xff\xfe\xc3\x28",
		"utf8":        "实例-🚀",
		"json":        `{"InstanceID":"x","Pending":true}`,
		"space":       " ",
		"newlines":    "\r\n\n",
		"marker-like": "C",
		"pct":         "%00%s%v",
		"backslash":   `\x00\\`,
		"quote":       `'"; DROP TABLE x; --`,
	}
	for name, v := range values {
		for _, pending := range []bool{false, true} {
			key := fmt.Sprintf("%s%s-%v", k, name, pending)
			want := store.Record{InstanceID: v, Pending: pending}
			wantClaimed(t, s, key, "an absent key")
			complete(t, s, key, want, storeLong)
			wantRecord(t, s, key, want, "a record of "+name)
		}
	}
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func storeManyDistinctKeys(t *testing.T, s store.Store, k string) {
	// Keys that differ by a byte, a case, a prefix or a trailing byte are
	// different keys.
	similar := []string{"a", "A", "a/", "a/b", "a/b/", "a b", "a%2Fb", "ab", " a", "a "}
	for _, sk := range similar {
		wantClaimed(t, s, k+"similar/"+sk, "a key like others")
	}
	for _, sk := range similar {
		complete(t, s, k+"similar/"+sk, store.Record{InstanceID: sk}, storeLong)
	}
	for _, sk := range similar {
		wantRecord(t, s, k+"similar/"+sk, store.Record{InstanceID: sk}, "a key like others")
	}

	// Many keys, concurrently: each holds its own record.
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := w; i < storeManyKeys; i += workers {
				key := fmt.Sprintf("%smany/%d", k, i)
				rec, ok, err := s.Claim(ctx, key, storeLong)
				if err != nil || !ok || rec != nil {
					t.Errorf("Claim(%q) = (%s, %v, %v), want a new claim", key, describe(rec), ok, err)
					return
				}
				r := store.Record{InstanceID: fmt.Sprintf("i-%d", i), Pending: i%3 == 0}
				if err := s.Complete(ctx, key, &r, storeLong); err != nil {
					t.Errorf("Complete(%q): %v", key, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range storeManyKeys {
		wantRecord(t, s, fmt.Sprintf("%smany/%d", k, i),
			store.Record{InstanceID: fmt.Sprintf("i-%d", i), Pending: i%3 == 0}, "one of many keys")
	}
}

// longKeys returns keys of exactly 512 bytes covering all printable ASCII,
// pairs of them differing only in their last or first byte.
func longKeys(k string) []string {
	var printable strings.Builder
	for c := byte(0x20); c < 0x7f; c++ {
		printable.WriteByte(c)
	}
	body := strings.Repeat(printable.String(), 6)
	mk := func(first, last string) string {
		n := storeMaxKeyLen - len(k) - len(first) - len(last)
		return k + first + body[:n] + last
	}
	return []string{mk("a", "x"), mk("a", "y"), mk("b", "x"), mk("/", "~")}
}

func storeLongKeys(t *testing.T, s store.Store, k string) {
	keys := longKeys(k)
	for _, key := range keys {
		if len(key) != storeMaxKeyLen {
			t.Fatalf("test bug: key of %d bytes", len(key))
		}
		wantClaimed(t, s, key, "a 512-byte key")
	}
	for i, key := range keys {
		complete(t, s, key, store.Record{InstanceID: fmt.Sprint(i)}, storeLong)
	}
	for i, key := range keys {
		wantRecord(t, s, key, store.Record{InstanceID: fmt.Sprint(i)}, "a 512-byte key")
	}
}
