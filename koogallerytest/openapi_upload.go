package koogallerytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/license"
)

// EventUpload is an upload the fake accepted on the event file API.
type EventUpload struct {
	EventID string
	Type    license.UploadType
	// Characters is the string of a CHARACTERS upload.
	Characters string
	// FileName, SHA256 (as the JSON part gave it, checked against the file)
	// and Size describe a FILE upload.
	FileName string
	SHA256   string
	Size     int64
	// Content holds the file's first MaxKeptUploadBytes bytes; the rest is
	// hashed and counted, never kept.
	Content []byte
	// Unsigned reports that the request carried X-Sdk-Content-Sha256:
	// UNSIGNED-PAYLOAD (the body was left out of the AK/SK signature).
	Unsigned bool
}

// MaxKeptUploadBytes is how much of an uploaded file the fake keeps.
const MaxKeptUploadBytes = 1 << 20

// AddEvents makes the upload API know these market events (the eventId of
// getLicenseAsync callbacks). Until the first call it accepts any event ID;
// from then on an upload to an unknown event is refused with CBC.0101.
func (s *Server) AddEvents(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open.events == nil {
		s.open.events = map[string]bool{}
	}
	for _, id := range ids {
		s.open.events[id] = true
	}
}

// Uploads returns the uploads accepted so far, in arrival order.
func (s *Server) Uploads() []EventUpload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]EventUpload(nil), s.open.uploads...)
}

// Upload answers, as the event-file upload API reference lists them.
const (
	uploadOK      = "CBC.0000"
	uploadInvalid = "CBC.0101"
)

// errTooLarge ends an upload beyond the size limit.
var errTooLarge = errors.New("request entity too large")

// maxUploadParts bounds the parts the fake reads.
const maxUploadParts = 8

// eventFile serves the event file upload. It reads the multipart body as
// a stream, in whichever order the parts come: the file is hashed and
// counted as it arrives (only its head is kept), and its SHA-256 compared
// with the JSON part's once both have been read.
func (s *Server) eventFile(w http.ResponseWriter, r *http.Request) {
	eventID, _ := eventPathParts(r.URL.Path)
	s.mu.Lock()
	maxBytes := s.open.maxUpload
	unknown := s.open.events != nil && !s.open.events[eventID]
	s.mu.Unlock()
	bad := func(msg string) {
		writeEnvelope(w, http.StatusBadRequest, uploadInvalid, "Invalid parameter: "+msg, nil)
	}
	if unknown {
		bad("unknown event " + eventID)
		return
	}
	up, err := parseUpload(r, maxBytes)
	switch {
	case errors.Is(err, errTooLarge):
		writeEnvelope(w, http.StatusRequestEntityTooLarge, "APIGW.0201", "Request entity too large", nil)
		return
	case err != nil:
		bad(err.Error())
		return
	}
	up.EventID = eventID
	up.Unsigned = strings.TrimSpace(r.Header.Get(auth.HeaderContentSHA256)) == auth.UnsignedPayload
	s.mu.Lock()
	s.open.uploads = append(s.open.uploads, *up)
	s.mu.Unlock()
	writeEnvelope(w, http.StatusOK, uploadOK, "Success", nil)
}

// countingReader fails once more than max bytes were read.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, errTooLarge
	}
	return n, err
}

// parseUpload reads and checks an upload's multipart body.
func parseUpload(r *http.Request, maxBytes int64) (*EventUpload, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, errors.New("the body must be multipart/form-data")
	}
	body := &countingReader{r: r.Body, max: maxBytes}
	mr := multipart.NewReader(body, params["boundary"])
	var (
		meta    *license.UploadMeta
		up      EventUpload
		hasFile bool
		sum     string
	)
	for i := 0; ; i++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, err
			}
			return nil, errors.New("the multipart body is malformed")
		}
		if i >= maxUploadParts {
			return nil, errors.New("too many parts")
		}
		switch part.FormName() {
		case license.UploadJSONPart:
			if meta != nil {
				return nil, errors.New("isvUpdateFileReq is sent twice")
			}
			if mt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); mt != "application/json" {
				return nil, errors.New("isvUpdateFileReq must be application/json")
			}
			b, err := io.ReadAll(io.LimitReader(part, 64<<10+1))
			if err != nil {
				return nil, partError(err)
			}
			if len(b) > 64<<10 {
				return nil, errors.New("isvUpdateFileReq is too large")
			}
			meta = new(license.UploadMeta)
			if json.Unmarshal(b, meta) != nil {
				return nil, errors.New("isvUpdateFileReq is not a JSON object")
			}
		case license.UploadFilePart:
			if hasFile {
				return nil, errors.New("file is sent twice")
			}
			hasFile = true
			up.FileName = part.FileName()
			h := sha256.New()
			head := &headWriter{max: MaxKeptUploadBytes}
			n, err := io.Copy(io.MultiWriter(h, head), part)
			if err != nil {
				return nil, partError(err)
			}
			up.Size, up.Content, sum = n, head.b, hex.EncodeToString(h.Sum(nil))
		default:
			return nil, errors.New("undefined part " + part.FormName())
		}
	}
	if meta == nil {
		return nil, errors.New("isvUpdateFileReq is missing")
	}
	up.Type = meta.Type
	switch meta.Type {
	case license.UploadTypeCharacters:
		if meta.Characters == "" || utf8.RuneCountInString(meta.Characters) > 1024 {
			return nil, errors.New("characters is required, at most 1024 characters")
		}
		up.Characters = meta.Characters
	case license.UploadTypeFile:
		switch {
		case !hasFile:
			return nil, errors.New("the file part is missing")
		case meta.FileName == "" || utf8.RuneCountInString(meta.FileName) > 1024:
			return nil, errors.New("file_name is required, at most 1024 characters")
		case meta.SHA256 == "" || len(meta.SHA256) > 1024:
			return nil, errors.New("sha256 is required")
		case !strings.EqualFold(meta.SHA256, sum):
			return nil, errors.New("sha256 does not match the file")
		}
		up.FileName, up.SHA256 = meta.FileName, strings.ToLower(meta.SHA256)
	default:
		return nil, errors.New("type must be CHARACTERS or FILE")
	}
	return &up, nil
}

func partError(err error) error {
	if errors.Is(err, errTooLarge) {
		return err
	}
	return errors.New("a part could not be read")
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	b   []byte
	max int
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
