package license_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/license"
)

func newUploadClient(t *testing.T, opts ...koogallerytest.ServerOption) (*koogallerytest.Server, *koogallery.Client, *license.Client) {
	t.Helper()
	fake := koogallerytest.NewServer(opts...)
	t.Cleanup(fake.Close)
	kg, err := fake.NewClient(koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 3, MaxBackoff: 10 * time.Millisecond}))
	require.NoError(t, err)
	return fake, kg, license.NewClient(kg)
}

// patternReader yields n deterministic pseudo-random bytes without
// holding them.
type patternReader struct {
	n, off int64
	state  uint64
}

func newPattern(n int64) *patternReader { return &patternReader{n: n, state: 0x9E3779B97F4A7C15} }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	if rem := r.n - r.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	for i := range p {
		if i%8 == 0 {
			r.state ^= r.state << 13
			r.state ^= r.state >> 7
			r.state ^= r.state << 17
		}
		p[i] = byte(r.state >> (8 * (i % 8)))
	}
	r.off += int64(len(p))
	return len(p), nil
}

func patternSHA(t *testing.T, n int64) string {
	t.Helper()
	h := sha256.New()
	_, err := io.Copy(h, newPattern(n))
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

func TestUploadCharacters(t *testing.T) {
	t.Parallel()
	fake, _, c := newUploadClient(t)
	require.NoError(t, c.UploadCharacters(context.Background(), "EV001", "LICENSE-KEY-ABC\n2027-01-01"))
	ups := fake.Uploads()
	require.Len(t, ups, 1)
	assert.Equal(t, koogallerytest.EventUpload{EventID: "EV001", Type: license.UploadTypeCharacters, Characters: "LICENSE-KEY-ABC\n2027-01-01"}, ups[0])
	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	assert.NoError(t, reqs[0].AuthError)
	assert.Equal(t, "CBC.0000", reqs[0].Code)
	assert.Empty(t, reqs[0].Header.Get("X-Sdk-Content-Sha256"), "a small body is hashed into the signature")
	assert.True(t, strings.HasPrefix(reqs[0].Header.Get("Content-Type"), "multipart/form-data; boundary="))
	assert.Contains(t, string(reqs[0].Body), `Content-Disposition: form-data; name="isvUpdateFileReq"`)
	assert.Contains(t, string(reqs[0].Body), `{"characters":"LICENSE-KEY-ABC\n2027-01-01","type":"CHARACTERS"}`)
}

func TestUploadFile(t *testing.T) {
	t.Parallel()
	content := []byte("-----BEGIN LICENSE-----\nabc\n-----END LICENSE-----\n")
	sum := sha256.Sum256(content)
	cases := []struct {
		name string
		file license.File
	}{
		{"size known", license.File{Name: "license.lic", Content: bytes.NewReader(content), Size: int64(len(content))}},
		{"size unknown (chunked)", license.File{Name: "license.lic", Content: io.MultiReader(bytes.NewReader(content))}},
		{"hash given", license.File{Name: "license.lic", Content: bytes.NewReader(content), SHA256: strings.ToUpper(hex.EncodeToString(sum[:]))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, _, c := newUploadClient(t)
			rcpt, err := c.UploadFile(context.Background(), "EV-1", tc.file)
			require.NoError(t, err)
			assert.Equal(t, &license.FileReceipt{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))}, rcpt)
			ups := fake.Uploads()
			require.Len(t, ups, 1)
			assert.Equal(t, koogallerytest.EventUpload{EventID: "EV-1", Type: license.UploadTypeFile, FileName: "license.lic",
				SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content)), Content: content, Unsigned: true}, ups[0])
			reqs := fake.Requests()
			require.Len(t, reqs, 1)
			assert.NoError(t, reqs[0].AuthError)
			assert.Equal(t, "UNSIGNED-PAYLOAD", reqs[0].Header.Get("X-Sdk-Content-Sha256"))
			assert.Contains(t, reqs[0].Header.Get("Authorization"), "x-sdk-content-sha256", "the override is itself signed")
		})
	}
}

func TestUploadFileFailures(t *testing.T) {
	t.Parallel()
	content := []byte("0123456789")
	cases := []struct {
		name, want string
		eventID    string
		file       license.File
		sentinel   error
	}{
		{"size larger than content", "content is 10 bytes, Size says 11", "EV", license.File{Name: "f", Content: bytes.NewReader(content), Size: 11}, koogallery.ErrInvalidRequest},
		{"size smaller than content", "content is more than 9 bytes", "EV", license.File{Name: "f", Content: bytes.NewReader(content), Size: 9}, koogallery.ErrInvalidRequest},
		{"wrong hash", "upload aborted", "EV", license.File{Name: "f", Content: bytes.NewReader(content), SHA256: strings.Repeat("ab", 32)}, koogallery.ErrInvalidRequest},
		{"hash not hex", "SHA256 is not 64 hex digits", "EV", license.File{Name: "f", Content: bytes.NewReader(content), SHA256: "xyz"}, koogallery.ErrInvalidRequest},
		{"no name", "file name is empty", "EV", license.File{Content: bytes.NewReader(content)}, koogallery.ErrInvalidRequest},
		{"name with a line break", "control character", "EV", license.File{Name: "a\r\nX-Evil: 1", Content: bytes.NewReader(content)}, koogallery.ErrInvalidRequest},
		{"long name", "at most 1024", "EV", license.File{Name: strings.Repeat("n", 1025), Content: bytes.NewReader(content)}, koogallery.ErrInvalidRequest},
		{"no content", "no content", "EV", license.File{Name: "f"}, koogallery.ErrInvalidRequest},
		{"negative size", "negative size", "EV", license.File{Name: "f", Content: bytes.NewReader(content), Size: -1}, koogallery.ErrInvalidRequest},
		{"reader fails", "read content: disk gone", "EV", license.File{Name: "f", Content: io.MultiReader(bytes.NewReader(content), errReader{})}, nil},
		{"empty event", "event ID is empty", "", license.File{Name: "f", Content: bytes.NewReader(content)}, koogallery.ErrInvalidRequest},
		{"long event", "longer than 64", strings.Repeat("e", 65), license.File{Name: "f", Content: bytes.NewReader(content)}, koogallery.ErrInvalidRequest},
		{"slash in event", "would change the path", "a/b", license.File{Name: "f", Content: bytes.NewReader(content)}, koogallery.ErrInvalidRequest},
		{"dot-dot event", "would change the path", "..", license.File{Name: "f", Content: bytes.NewReader(content)}, koogallery.ErrInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, _, c := newUploadClient(t)
			_, err := c.UploadFile(context.Background(), tc.eventID, tc.file)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "license: upload file"), err.Error())
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
			assert.Empty(t, fake.Uploads())
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestUploadDocumentedErrors(t *testing.T) {
	t.Parallel()
	t.Run("unknown event", func(t *testing.T) {
		t.Parallel()
		fake, _, c := newUploadClient(t)
		fake.AddEvents("EV-KNOWN")
		err := c.UploadCharacters(context.Background(), "EV-OTHER", "x")
		var apiErr *koogallery.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "CBC.0101", apiErr.Code)
		assert.Equal(t, 400, apiErr.StatusCode)
		assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
		require.NoError(t, c.UploadCharacters(context.Background(), "EV-KNOWN", "x"))
	})
	t.Run("illegal operation", func(t *testing.T) {
		t.Parallel()
		fake, _, c := newUploadClient(t)
		fake.Inject(koogallerytest.Fault{Status: 403, Code: "CBC.0150", Message: "Illegal operation"})
		_, err := c.UploadFile(context.Background(), "EV", license.File{Name: "f", Content: strings.NewReader("x")})
		assert.ErrorIs(t, err, koogallery.ErrPermission)
		assert.Contains(t, err.Error(), "CBC.0150")
	})
	t.Run("licence application refused with HTTP 200", func(t *testing.T) {
		t.Parallel()
		fake, _, c := newUploadClient(t)
		fake.Inject(koogallerytest.Fault{Status: 200, ContentType: "application/json", Body: []byte(`{"error_code":"91381038","error_msg":"License apply has been denied."}`)})
		err := c.UploadCharacters(context.Background(), "EV", "x")
		assert.ErrorIs(t, err, koogallery.ErrPermission)
	})
	t.Run("larger than the gateway's 12 MiB", func(t *testing.T) {
		t.Parallel()
		fake, _, c := newUploadClient(t)
		const n = 13 << 20
		_, err := c.UploadFile(context.Background(), "EV", license.File{Name: "big.bin", Content: newPattern(n), Size: n})
		var apiErr *koogallery.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusRequestEntityTooLarge, apiErr.StatusCode)
		assert.Equal(t, "APIGW.0201", apiErr.Code)
		assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
		_, err = c.UploadFile(context.Background(), "EV", license.File{Name: "big.bin", Content: newPattern(n)})
		require.Error(t, err, "chunked, the fake counts as it reads")
		assert.Empty(t, fake.Uploads())
	})
	t.Run("a stream is sent once, never retried", func(t *testing.T) {
		t.Parallel()
		fake, _, c := newUploadClient(t)
		fake.Inject(koogallerytest.Unavailable())
		_, err := c.UploadFile(context.Background(), "EV", license.File{Name: "f", Content: strings.NewReader("x")})
		assert.ErrorIs(t, err, koogallery.ErrServer)
		assert.Len(t, fake.Requests(), 1)
		assert.NoError(t, c.UploadCharacters(context.Background(), "EV", "x"), "characters are")
	})
}

func TestUploadEscapesTheEventID(t *testing.T) {
	t.Parallel()
	fake, _, c := newUploadClient(t)
	const id = "ev 1?x=#%25é"
	_, err := c.UploadFile(context.Background(), id, license.File{Name: `quote".txt`, Content: strings.NewReader("x")})
	require.NoError(t, err)
	ups := fake.Uploads()
	require.Len(t, ups, 1)
	assert.Equal(t, id, ups[0].EventID)
	assert.Equal(t, `quote".txt`, ups[0].FileName)
	assert.Equal(t, license.EventFilePath(id), fake.Requests()[0].Path)
	assert.Empty(t, fake.Requests()[0].Query)
}

func TestUploadContextCancelledMidStream(t *testing.T) {
	t.Parallel()
	_, _, c := newUploadClient(t, koogallerytest.WithMaxUploadBytes(1<<30))
	ctx, cancel := context.WithCancel(context.Background())
	var read atomic.Int64
	src := readFunc(func(p []byte) (int, error) {
		if read.Add(int64(len(p))) > 1<<20 {
			cancel()
		}
		return len(p), nil // endless
	})
	done := make(chan error, 1)
	go func() {
		_, err := c.UploadFile(ctx, "EV", license.File{Name: "endless", Content: src})
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("UploadFile did not return after the context was cancelled")
	}
}

// TestUploadReturnsWhenTheContextEndsWhileTheReaderStalls: a Content that
// blocks does not hold UploadFile past its deadline, and the error says
// why it ended.
func TestUploadReturnsWhenTheContextEndsWhileTheReaderStalls(t *testing.T) {
	t.Parallel()
	_, _, c := newUploadClient(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var sent atomic.Bool
	src := readFunc(func(p []byte) (int, error) {
		if sent.CompareAndSwap(false, true) {
			return copy(p, "first bytes"), nil
		}
		<-release // a stalled network share, a pipe nobody writes to
		return 0, io.EOF
	})
	for _, size := range []int64{0, 1 << 20} { // chunked, and with a Content-Length
		sent.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := c.UploadFile(ctx, "EV", license.File{Name: "stalled", Content: src, Size: size})
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("size %d: UploadFile still blocked 10 s after a 300 ms deadline", size)
		}
		cancel()
		require.Error(t, err, "size %d", size)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "size %d: %v", size, err)
		assert.Less(t, time.Since(start), 2*time.Second, "size %d", size)
		assert.NotContains(t, err.Error(), "closed pipe", "size %d", size)
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

// The fake reads the parts in either order: JSON first works as well.
func TestFakeUploadParsesEitherOrderAndChecksTheHash(t *testing.T) {
	t.Parallel()
	_, kg, _ := newUploadClient(t)
	build := func(jsonFirst bool, sha string, parts ...string) (*bytes.Buffer, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		writeJSON := func() {
			h := make(map[string][]string)
			h["Content-Disposition"] = []string{`form-data; name="isvUpdateFileReq"`}
			h["Content-Type"] = []string{"application/json"}
			w, _ := mw.CreatePart(h)
			io.WriteString(w, `{"type":"FILE","file_name":"a.txt","sha256":"`+sha+`"}`)
		}
		if jsonFirst {
			writeJSON()
		}
		for _, p := range parts {
			w, _ := mw.CreateFormFile(p, "a.txt")
			io.WriteString(w, "hello")
		}
		if !jsonFirst {
			writeJSON()
		}
		mw.Close()
		return &b, mw.FormDataContentType()
	}
	sum := sha256.Sum256([]byte("hello"))
	good := hex.EncodeToString(sum[:])
	send := func(body *bytes.Buffer, ct string) error {
		req, err := kg.NewRequest(context.Background(), http.MethodPost, license.EventFilePath("EV"), nil, body.Bytes())
		require.NoError(t, err)
		req.Header.Set("Content-Type", ct)
		return kg.Do(context.Background(), req, nil)
	}
	assert.NoError(t, send(build(true, good, "file")))
	assert.NoError(t, send(build(false, good, "file")))
	for name, args := range map[string]struct {
		sha   string
		parts []string
	}{
		"hash mismatch": {strings.Repeat("0", 64), []string{"file"}},
		"no file part":  {good, nil},
		"two files":     {good, []string{"file", "file"}},
		"unknown part":  {good, []string{"file", "other"}},
	} {
		err := send(build(true, args.sha, args.parts...))
		var apiErr *koogallery.APIError
		require.ErrorAs(t, err, &apiErr, name)
		assert.Equal(t, "CBC.0101", apiErr.Code, name)
	}
	err := send(bytes.NewBufferString(`{"type":"CHARACTERS"}`), "application/json")
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
}

// TestUpload200MiBBoundedMemory streams 200 MiB from a generator through
// the client and the fake (both in this process) and measures the heap.
func TestUpload200MiBBoundedMemory(t *testing.T) {
	// Not parallel: it measures this process's heap. With -short it streams
	// 32 MiB instead, which still dwarfs the bound it asserts.
	size := int64(200 << 20)
	if testing.Short() {
		size = 32 << 20
	}
	want := patternSHA(t, size)
	fake, _, c := newUploadClient(t, koogallerytest.WithMaxUploadBytes(256<<20))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	start := time.Now()
	rcpt, err := c.UploadFile(context.Background(), "EV-BIG", license.File{Name: "big.bin", Content: newPattern(size), Size: size})
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	require.NoError(t, err)

	assert.Equal(t, want, rcpt.SHA256)
	assert.Equal(t, int64(size), rcpt.Size)
	ups := fake.Uploads()
	require.Len(t, ups, 1)
	assert.Equal(t, want, ups[0].SHA256, "the fake hashed the same bytes")
	assert.Equal(t, int64(size), ups[0].Size)

	peakGrowth := int64(peak.Load()) - int64(before.HeapInuse)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d MiB upload in %v (%.0f MiB/s): peak heap-in-use growth %.1f MiB, total allocated %.1f MiB, %d mallocs",
		size>>20, elapsed.Round(time.Millisecond), float64(size>>20)/elapsed.Seconds(), float64(peakGrowth)/(1<<20),
		float64(allocated)/(1<<20), after.Mallocs-before.Mallocs)
	assert.Less(t, peakGrowth, int64(16<<20), "peak heap growth is bounded, far below the file size")
	assert.Less(t, allocated, uint64(32<<20), "allocation does not grow with the file size")
}
