package license

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/auth"
)

// EventFilePath returns the path of the event file upload (字符串/文件流上传)
// for eventID, unescaped; the client escapes it on the wire.
func EventFilePath(eventID string) string { return eventFilePrefix + eventID + "/file" }

const eventFilePrefix = "/api/mkp-openapi-public/global/v1/market-event/"

// Names of the upload's multipart parts.
const (
	// UploadJSONPart is the JSON part (Content-Type application/json)
	// holding type, sha256, characters and file_name.
	UploadJSONPart = "isvUpdateFileReq"
	// UploadFilePart is the file part.
	UploadFilePart = "file"
)

// UploadType is the type member of the upload's JSON part.
type UploadType string

// Upload types.
const (
	UploadTypeCharacters UploadType = "CHARACTERS" // a string, in the JSON part
	UploadTypeFile       UploadType = "FILE"       // a file, in the file part
)

// UploadMeta is the JSON part of an upload (isvUpdateFileReq). Its fields
// are in the byte order of their JSON names.
type UploadMeta struct {
	Characters string     `json:"characters,omitempty"`
	FileName   string     `json:"file_name,omitempty"`
	SHA256     string     `json:"sha256,omitempty"`
	Type       UploadType `json:"type"`
}

// Limits of the upload's JSON part.
const (
	MaxUploadCharacters = 1024 // characters, in characters
	MaxUploadFileName   = 1024 // file_name, in characters
	maxEventIDLen       = 64
)

// File is a file to upload to a market event.
type File struct {
	// Name is file_name (required, at most 1024 characters).
	Name string
	// Content is read once, from start to end, and streamed: it is never
	// held in memory, whatever its size.
	Content io.Reader
	// Size is Content's length in bytes, when known (> 0): the request then
	// carries an exact Content-Length, and a Content of another length
	// aborts the upload. Otherwise the body is sent chunked.
	Size int64
	// SHA256 is the file's SHA-256 in hex, when the caller knows it: it is
	// checked against the bytes streamed, and a mismatch aborts the upload
	// before the request is complete. Otherwise it is computed.
	SHA256 string
}

// FileReceipt describes a file KooGallery accepted.
type FileReceipt struct {
	// SHA256 is the lower-case hex SHA-256 sent in the JSON part.
	SHA256 string
	// Size is the number of file bytes sent.
	Size int64
}

// UploadCharacters sends a string to a market event (type CHARACTERS; at
// most 1024 characters), for example a licence for the eventId of a
// getLicenseAsync callback. The small multipart body is built in memory and
// hashed into the AK/SK signature like any JSON body, and the call is
// retried like an idempotent one: sending the same characters to the same
// event again delivers nothing new.
func (c *Client) UploadCharacters(ctx context.Context, eventID, characters string) error {
	if err := checkEventID(eventID); err != nil {
		return fmt.Errorf("license: upload characters: %w", err)
	}
	if characters == "" {
		return fmt.Errorf("license: upload characters to event %s: %w: characters is empty", eventID, koogallery.ErrInvalidRequest)
	}
	if err := checkLength("characters", characters, MaxUploadCharacters); err != nil {
		return fmt.Errorf("license: upload characters to event %s: %w", eventID, err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := writeMeta(mw, UploadMeta{Type: UploadTypeCharacters, Characters: characters}); err != nil {
		return fmt.Errorf("license: upload characters to event %s: %w", eventID, err)
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("license: upload characters to event %s: %w", eventID, err)
	}
	req, err := c.kg.NewRequest(ctx, http.MethodPost, EventFilePath(eventID), nil, buf.Bytes(), koogallery.Idempotent())
	if err != nil {
		return fmt.Errorf("license: upload characters to event %s: %w", eventID, err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if err := c.kg.Do(ctx, req, nil); err != nil {
		return fmt.Errorf("license: upload characters to event %s: %w", eventID, err)
	}
	return nil
}

// UploadFile streams a file to a market event (type FILE), with bounded
// memory whatever the file's size.
//
// Wire format: multipart/form-data with the file part ("file", the file
// name, application/octet-stream) followed by the JSON part
// ("isvUpdateFileReq", application/json: type FILE, file_name and the
// file's sha256). The parts come in that order, as in the documented
// example, so that the SHA-256 is computed while the file streams and
// written after it: any io.Reader is read exactly once, no seeking and no
// second pass. Multipart receivers look parts up by name, so the order
// carries no meaning; the order of the parts is a documented choice, not a
// guess about the service.
//
// Payload hash. The AK/SK signature normally covers the SHA-256 of the
// whole body, which a stream cannot provide before it is sent. The request
// therefore carries X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD (itself signed),
// the gateway's documented switch for bodies left out of the signature,
// which Huawei's own SDKs use for every non-JSON body. The file's integrity
// is still covered: the JSON part's sha256 is checked by KooGallery against
// the file part. Because the body cannot be replayed, the request is sent
// once: no retry and no fallback host. The API gateway documents a 12 MB
// limit for request bodies in general (APIGW.0201, HTTP 413); no other limit
// is documented for this API.
//
// UploadFile returns when ctx ends, even while a Read of f.Content is
// blocked; that Read is then left to return on its own, and nothing more is
// read after it.
func (c *Client) UploadFile(ctx context.Context, eventID string, f File) (*FileReceipt, error) {
	if err := checkEventID(eventID); err != nil {
		return nil, fmt.Errorf("license: upload file: %w", err)
	}
	fail := func(err error) (*FileReceipt, error) {
		return nil, fmt.Errorf("license: upload file %q to event %s: %w", clipName(f.Name), eventID, err)
	}
	switch {
	case f.Name == "":
		return fail(fmt.Errorf("%w: file name is empty", koogallery.ErrInvalidRequest))
	case f.Content == nil:
		return fail(fmt.Errorf("%w: no content", koogallery.ErrInvalidRequest))
	case f.Size < 0:
		return fail(fmt.Errorf("%w: negative size", koogallery.ErrInvalidRequest))
	}
	if err := checkLength("file name", f.Name, MaxUploadFileName); err != nil {
		return fail(err)
	}
	var want []byte
	if f.SHA256 != "" {
		var err error
		if want, err = hex.DecodeString(f.SHA256); err != nil || len(want) != sha256.Size {
			return fail(fmt.Errorf("%w: SHA256 is not 64 hex digits", koogallery.ErrInvalidRequest))
		}
	}

	req, err := c.kg.NewRequest(ctx, http.MethodPost, EventFilePath(eventID), nil, nil)
	if err != nil {
		return fail(err)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set(auth.HeaderContentSHA256, auth.UnsignedPayload)
	req.Body, req.GetBody, req.ContentLength = pr, nil, -1
	if f.Size > 0 {
		if req.ContentLength, err = uploadLength(mw.Boundary(), f.Name, f.Size); err != nil {
			return fail(err)
		}
	}

	type outcome struct {
		receipt FileReceipt
		err     error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		o.receipt, o.err = writeFile(mw, f, want)
		pw.CloseWithError(o.err) // nil: a clean EOF
		done <- o
	}()
	// When ctx ends the transport waits for its body read to return before
	// it gives up; closing the pipe makes that read return even while the
	// Content's Read is blocked.
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(context.Cause(ctx)) })
	err = c.kg.Do(ctx, req, nil)
	stop()
	pr.CloseWithError(errUploadEnded) // unblock the writer if the transport stopped reading

	var apiErr *koogallery.APIError
	if errors.As(err, &apiErr) {
		return fail(err) // KooGallery answered: its answer is the outcome
	}
	// The writer ends at once unless the Content's Read is blocked; a
	// blocked Read is not waited for past the context (it returns to a
	// closed pipe whenever it returns, and nothing more is read).
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		if err == nil {
			err = context.Cause(ctx)
		}
		return fail(err)
	}
	switch {
	case o.err != nil && !errors.Is(o.err, errUploadEnded):
		return fail(o.err) // the content could not be read, or did not match
	case err != nil:
		return fail(err)
	}
	return &o.receipt, nil
}

// errUploadEnded ends the writer when the request is over.
var errUploadEnded = errors.New("upload request ended")

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// writeFile writes the file part, then the JSON part, and closes mw.
func writeFile(mw *multipart.Writer, f File, want []byte) (FileReceipt, error) {
	part, err := mw.CreatePart(fileHeader(f.Name))
	if err != nil {
		return FileReceipt{}, err
	}
	h := sha256.New()
	src := f.Content
	if f.Size > 0 {
		src = io.LimitReader(src, f.Size+1)
	}
	rd := &readTracker{r: src}
	bp := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(part, h), rd, *bp)
	copyBufs.Put(bp)
	switch {
	case rd.err != nil && rd.err != io.EOF:
		return FileReceipt{}, fmt.Errorf("read content: %w", rd.err)
	case err != nil:
		return FileReceipt{}, fmt.Errorf("%w: %w", errUploadEnded, err) // the transport stopped reading
	}
	if f.Size > 0 && n != f.Size {
		return FileReceipt{}, fmt.Errorf("%w: content is %s bytes, Size says %d", koogallery.ErrInvalidRequest, sizeText(n, f.Size), f.Size)
	}
	sum := h.Sum(nil)
	if want != nil && !bytes.Equal(sum, want) {
		return FileReceipt{}, fmt.Errorf("%w: content's SHA-256 is %x, not the given %x; upload aborted", koogallery.ErrInvalidRequest, sum, want)
	}
	r := FileReceipt{SHA256: hex.EncodeToString(sum), Size: n}
	if err := writeMeta(mw, UploadMeta{Type: UploadTypeFile, FileName: f.Name, SHA256: r.SHA256}); err != nil {
		return FileReceipt{}, err
	}
	return r, mw.Close()
}

// readTracker keeps the content's read error apart from the pipe's write
// errors, and hides any WriterTo, so that the copy goes through the hashing
// MultiWriter in bounded chunks.
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil {
		t.err = err
	}
	return n, err
}

func sizeText(n, size int64) string {
	if n > size {
		return "more than " + strconv.FormatInt(size, 10)
	}
	return strconv.FormatInt(n, 10)
}

func fileHeader(name string) textproto.MIMEHeader {
	h := make(textproto.MIMEHeader, 2)
	h.Set("Content-Disposition", `form-data; name="`+UploadFilePart+`"; filename="`+quoteEscaper.Replace(name)+`"`)
	h.Set("Content-Type", "application/octet-stream")
	return h
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// writeMeta writes the JSON part.
func writeMeta(mw *multipart.Writer, m UploadMeta) error {
	h := make(textproto.MIMEHeader, 2)
	h.Set("Content-Disposition", `form-data; name="`+UploadJSONPart+`"`)
	h.Set("Content-Type", "application/json")
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = part.Write(b)
	return err
}

// uploadLength returns the exact body length of a file upload: the
// multipart framing with the same boundary, a JSON part whose sha256 has
// its fixed 64 digits, and size file bytes.
func uploadLength(boundary, name string, size int64) (int64, error) {
	var cw countWriter
	mw := multipart.NewWriter(&cw)
	if err := mw.SetBoundary(boundary); err != nil {
		return 0, err
	}
	if _, err := mw.CreatePart(fileHeader(name)); err != nil {
		return 0, err
	}
	if err := writeMeta(mw, UploadMeta{Type: UploadTypeFile, FileName: name, SHA256: strings.Repeat("0", 2*sha256.Size)}); err != nil {
		return 0, err
	}
	if err := mw.Close(); err != nil {
		return 0, err
	}
	return cw.n + size, nil
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// checkEventID checks an event ID before it goes into the path: 1 to 64
// characters, valid UTF-8, no control characters, no '/' or '\' (which
// would change the path), not "." or "..".
func checkEventID(id string) error {
	if err := checkText("event ID", id, true, maxEventIDLen); err != nil {
		return err
	}
	if strings.ContainsAny(id, `/\`) || id == "." || id == ".." {
		return fmt.Errorf("%w: event ID %q would change the path", koogallery.ErrInvalidRequest, id)
	}
	return nil
}

// checkLength checks free text: valid UTF-8, at most max characters, and no
// control characters other than tab, CR and LF (none at all in a file name,
// where a line break would end the part's header).
func checkLength(what, v string, max int) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", koogallery.ErrInvalidRequest, what)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return fmt.Errorf("%w: %s is %d characters, at most %d", koogallery.ErrInvalidRequest, what, n, max)
	}
	for _, r := range v {
		if (r < 0x20 || r == 0x7f) && (what == "file name" || (r != '\t' && r != '\n' && r != '\r')) {
			return fmt.Errorf("%w: %s contains a control character", koogallery.ErrInvalidRequest, what)
		}
	}
	return nil
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
