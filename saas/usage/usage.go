package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/internal/wire"
)

// Paths of the usage push APIs, the same on every site.
const (
	// Path is the current usage push (按需使用量推送(新)): AK/SK plus the
	// signature/ts/nonce body-signature headers.
	Path = "/api/mkp-openapi-public/global/v1/isv/usage-data"
	// LegacyPath is the old usage push (按需使用量推送(旧)): AK/SK only,
	// records carry product_id instead of metering_sn.
	LegacyPath = "/rest/marketplace/v1/isv/usage-data"
)

// MaxRecords is the most records one push may carry; the service
// answers MKT.9003 beyond it. PushInBatches splits larger sets.
const MaxRecords = 1000

// maxUsageIDLen is the documented maximum length of every ID in a record.
const maxUsageIDLen = 64

// Record is one usage record (话单) of a pay-per-use instance.
//
// Times are sent in UTC as yyyyMMdd'T'HHmmss'Z'; fractions of a second are
// truncated. KooGallery refuses records whose BeginTime is more than 21 days
// old (MKT.9004) and bills hourly items from records reported within two
// hours.
type Record struct {
	// InstanceID is the pay-per-use instance the seller returned from
	// newInstance (at most 64 characters).
	InstanceID string
	// MeteringSN is the seller's unique ID of the record (at most 64
	// characters), KooGallery's idempotency key: re-sending a record with
	// the same MeteringSN does not bill twice. Required by Push, which
	// also requires it to be unique within a call; not sent by
	// PushLegacy.
	MeteringSN string
	// ProductID is the product of the instance (at most 64 characters).
	// Required by PushLegacy; not sent by Push.
	ProductID string
	// RecordTime is when the record was produced.
	RecordTime time.Time
	// BeginTime and EndTime delimit the metered window; BeginTime must not
	// be after EndTime.
	BeginTime, EndTime time.Time
	// UsageValue is the amount used: greater than zero, at most four
	// decimals.
	UsageValue Decimal
	// RelatePkgInstance is, for a "stop when used up" package, the package
	// instance the usage is drawn from (at most 64 characters); empty
	// otherwise.
	RelatePkgInstance string
}

// usageWire is a record on the wire. Its fields are in the byte order of
// their JSON names, so encoding/json writes the keys sorted.
type usageWire struct {
	BeginTime         string  `json:"begin_time"`
	EndTime           string  `json:"end_time"`
	InstanceID        string  `json:"instance_id"`
	MeteringSN        string  `json:"metering_sn,omitempty"`
	ProductID         string  `json:"product_id,omitempty"`
	RecordTime        string  `json:"record_time"`
	RelatePkgInstance string  `json:"relate_pkg_instance,omitempty"`
	UsageValue        Decimal `json:"usage_value"`
}

func formatUsageTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(wire.LayoutISO)
}

func (r Record) wire() usageWire {
	return usageWire{
		BeginTime: formatUsageTime(r.BeginTime), EndTime: formatUsageTime(r.EndTime), InstanceID: r.InstanceID,
		MeteringSN: r.MeteringSN, ProductID: r.ProductID, RecordTime: formatUsageTime(r.RecordTime),
		RelatePkgInstance: r.RelatePkgInstance, UsageValue: r.UsageValue,
	}
}

// MarshalJSON writes the record in the wire format (snake_case names, keys
// sorted, UTC times), with the empty optional IDs omitted.
func (r Record) MarshalJSON() ([]byte, error) { return json.Marshal(r.wire()) }

// UnmarshalJSON reads the wire format tolerantly (numbers as strings and
// the reverse, any of the compact time layouts).
func (r *Record) UnmarshalJSON(b []byte) error {
	var aux struct {
		BeginTime         wire.Time   `json:"begin_time"`
		EndTime           wire.Time   `json:"end_time"`
		InstanceID        wire.String `json:"instance_id"`
		MeteringSN        wire.String `json:"metering_sn"`
		ProductID         wire.String `json:"product_id"`
		RecordTime        wire.Time   `json:"record_time"`
		RelatePkgInstance wire.String `json:"relate_pkg_instance"`
		UsageValue        Decimal     `json:"usage_value"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*r = Record{
		InstanceID: string(aux.InstanceID), MeteringSN: string(aux.MeteringSN), ProductID: string(aux.ProductID),
		RecordTime: time.Time(aux.RecordTime), BeginTime: time.Time(aux.BeginTime), EndTime: time.Time(aux.EndTime),
		UsageValue: aux.UsageValue, RelatePkgInstance: string(aux.RelatePkgInstance),
	}
	return nil
}

type usageAPI uint8

const (
	apiCurrent usageAPI = iota
	apiLegacy
)

// Validate checks records as Push does before sending them:
// between 1 and MaxRecords records, every ID present where required,
// at most 64 characters and valid UTF-8, MeteringSN unique, times set (years
// 1970 to 9999), BeginTime not after EndTime, and a usage value. Errors
// match koogallery.ErrInvalidRequest and name the record by index.
func Validate(records []Record) error { return validateUsage(records, apiCurrent, true) }

func validateUsage(records []Record, api usageAPI, checkCount bool) error {
	if len(records) == 0 {
		return fmt.Errorf("%w: no usage records", koogallery.ErrInvalidRequest)
	}
	if checkCount && len(records) > MaxRecords {
		return fmt.Errorf("%w: %d usage records, at most %d per call (use PushInBatches)",
			koogallery.ErrInvalidRequest, len(records), MaxRecords)
	}
	var seen map[string]int
	if api == apiCurrent {
		seen = make(map[string]int, len(records))
	}
	for i := range records {
		r := &records[i]
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: record %d: %s", koogallery.ErrInvalidRequest, i, fmt.Sprintf(format, args...))
		}
		if err := checkUsageID("instance_id", r.InstanceID, true); err != nil {
			return bad("%v", err)
		}
		if api == apiCurrent {
			if err := checkUsageID("metering_sn", r.MeteringSN, true); err != nil {
				return bad("%v", err)
			}
			if j, dup := seen[r.MeteringSN]; dup {
				return bad("metering_sn %q repeats record %d", r.MeteringSN, j)
			}
			seen[r.MeteringSN] = i
		} else if err := checkUsageID("product_id", r.ProductID, true); err != nil {
			return bad("%v", err)
		}
		if err := checkUsageID("relate_pkg_instance", r.RelatePkgInstance, false); err != nil {
			return bad("%v", err)
		}
		for _, t := range [...]struct {
			name string
			t    time.Time
		}{{"record_time", r.RecordTime}, {"begin_time", r.BeginTime}, {"end_time", r.EndTime}} {
			if y := t.t.UTC().Year(); t.t.IsZero() || y < 1970 || y > 9999 {
				return bad("%s is not set or outside the years 1970-9999", t.name)
			}
		}
		if r.BeginTime.Truncate(time.Second).After(r.EndTime.Truncate(time.Second)) {
			return bad("begin_time %s is after end_time %s", formatUsageTime(r.BeginTime), formatUsageTime(r.EndTime))
		}
		if r.UsageValue.IsZero() {
			return bad("usage_value is not set (build it with ParseDecimal or DecimalFromFloat)")
		}
	}
	return nil
}

func checkUsageID(name, v string, required bool) error {
	switch {
	case v == "" && required:
		return fmt.Errorf("%s is empty", name)
	case !utf8.ValidString(v):
		return fmt.Errorf("%s is not valid UTF-8", name)
	case utf8.RuneCountInString(v) > maxUsageIDLen:
		return fmt.Errorf("%s is longer than %d characters", name, maxUsageIDLen)
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s contains a control character", name)
		}
	}
	return nil
}

// Encode returns the body Push sends for records: the canonical
// JSON that is body-signed, AK/SK-hashed and sent, byte for byte.
//
// Canonical form. The documentation says the body is signed with its keys
// "naturally sorted" and shows only a truncated Java demo (the usage-push
// API reference of the KooGallery seller guide). The SDK therefore sends a body that is already in
// every plausible canonical form, so that a verifier that signs the bytes
// as received and one that re-sorts the keys before signing both agree:
// object keys sorted by byte order at every level, no insignificant
// whitespace, no HTML escaping, no trailing newline, absent optional fields
// omitted rather than null, usage_value as a JSON string.
func Encode(records []Record) ([]byte, error) { return encodeUsage(records, apiCurrent) }

func encodeUsage(records []Record, api usageAPI) ([]byte, error) {
	body := struct {
		UsageRecords []usageWire `json:"usage_records"`
	}{make([]usageWire, len(records))}
	for i, r := range records {
		w := r.wire()
		if api == apiCurrent {
			w.ProductID = ""
		} else {
			w.MeteringSN = ""
		}
		body.UsageRecords[i] = w
	}
	var buf bytes.Buffer
	buf.Grow(64 + 220*len(records))
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Headers of the usage push's body signature.
const (
	HeaderUsageSignature = "signature"
	HeaderUsageTimestamp = "ts"
	HeaderUsageNonce     = "nonce"
)

// Push reports usage records through the current API (at most
// MaxRecords per call; see PushInBatches). The body is signed
// with the seller key (WithSellerKey): signature =
// base64(HmacSHA256(key, "ts={ts}&nonce={nonce}&body={body}")), ts in epoch
// milliseconds, a fresh random nonce per call; the exact bytes signed are
// the bytes sent and hashed by the AK/SK signature (see Encode).
//
// Invalid records fail before any network call with an error matching
// koogallery.ErrInvalidRequest. A failure KooGallery reports is a
// *koogallery.APIError (MKT.0102: the body signature was refused, check the
// seller key; MKT.9003: too many records; MKT.9004: a record older than 21
// days; MKT.9001: unknown instance). KooGallery validates record contents
// later, in the background; records it reports as abnormal in the answer
// are in Result.Abnormal, and when a failure answer names records,
// Push returns them in a non-nil result alongside the error.
//
// A push that failed with a server error or throttling is retried with the
// same body, ts and nonce; MeteringSN makes the retry idempotent.
func (c *Client) Push(ctx context.Context, records []Record) (*Result, error) {
	if err := validateUsage(records, apiCurrent, true); err != nil {
		return nil, fmt.Errorf("usage: push usage: %w", err)
	}
	return c.pushUsage(ctx, records)
}

func (c *Client) pushUsage(ctx context.Context, records []Record) (*Result, error) {
	if c.key == nil {
		return nil, fmt.Errorf("usage: push usage: %w: no seller key (use WithSellerKey)", koogallery.ErrInvalidRequest)
	}
	body, err := encodeUsage(records, apiCurrent)
	if err != nil {
		return nil, fmt.Errorf("usage: push usage: %w", err)
	}
	nonce, err := newNonce()
	if err != nil {
		return nil, fmt.Errorf("usage: push usage: nonce: %w", err)
	}
	ts := strconv.FormatInt(c.now().UnixMilli(), 10)
	// metering_sn makes the push idempotent: it may be retried even after
	// a failure that reached KooGallery.
	req, err := c.kg.NewRequest(ctx, http.MethodPost, Path, nil, body, koogallery.Idempotent())
	if err != nil {
		return nil, fmt.Errorf("usage: push usage: %w", err)
	}
	req.Header.Set(HeaderUsageSignature, c.key.sign(ts, nonce, body))
	req.Header.Set(HeaderUsageTimestamp, ts)
	req.Header.Set(HeaderUsageNonce, nonce)
	return c.send(ctx, req, "push usage", len(records))
}

// PushLegacy reports usage records through the old API (LegacyPath):
// AK/SK only, ProductID required, MeteringSN not sent. Prefer Push, whose
// MeteringSN makes retries idempotent: a push of the old API is retried only
// when it cannot have reached KooGallery (the connection was refused, or
// KooGallery throttled it), never after a server error or a lost connection,
// since KooGallery might then count its records twice; such a failure is
// returned for the caller to reconcile.
func (c *Client) PushLegacy(ctx context.Context, records []Record) (*Result, error) {
	if err := validateUsage(records, apiLegacy, true); err != nil {
		return nil, fmt.Errorf("usage: push legacy usage: %w", err)
	}
	body, err := encodeUsage(records, apiLegacy)
	if err != nil {
		return nil, fmt.Errorf("usage: push legacy usage: %w", err)
	}
	req, err := c.kg.NewRequest(ctx, http.MethodPost, LegacyPath, nil, body)
	if err != nil {
		return nil, fmt.Errorf("usage: push legacy usage: %w", err)
	}
	return c.send(ctx, req, "push legacy usage", len(records))
}

func (c *Client) send(ctx context.Context, req *http.Request, op string, n int) (*Result, error) {
	var res Result
	if err := c.kg.Do(ctx, req, &res); err != nil {
		err = fmt.Errorf("usage: %s (%d records): %w", op, n, err)
		var apiErr *koogallery.APIError
		if errors.As(err, &apiErr) && len(apiErr.Body) > 0 {
			// A failure answer may name the failed records anywhere in it.
			var failed Result
			if json.Unmarshal(apiErr.Body, &failed) == nil && len(failed.Abnormal) > 0 {
				return &failed, err
			}
		}
		return nil, err
	}
	return &res, nil
}

// BatchResult is the outcome of one call of PushInBatches.
type BatchResult struct {
	// Offset is the index of the batch's first record in the input, Count
	// the number of records in the batch.
	Offset, Count int
	// Result is KooGallery's answer (nil when the batch failed without one).
	Result *Result
	// Err is nil when KooGallery accepted the batch; ErrBatchNotSent when it
	// was not sent because an earlier failure made sending pointless.
	Err error
}

// ErrBatchNotSent marks batches PushInBatches did not send: after an
// authentication or permission failure (every further call would fail the
// same way, and repeated AK/SK failures lock the AK) or once the context
// ended.
var ErrBatchNotSent = errors.New("usage: batch not sent")

// PushInBatches validates all records (MeteringSN unique across the
// whole set), then pushes them through Push in consecutive batches of
// at most MaxRecords (2,500 records make three calls of 1,000, 1,000
// and 500), and reports each batch's outcome. A batch that fails does not
// stop the others, except as ErrBatchNotSent says. The error is nil when
// every batch was accepted, else the errors.Join of the failed batches'
// errors (errors.Is works against the koogallery sentinels). Invalid input
// sends nothing and returns no results.
func (c *Client) PushInBatches(ctx context.Context, records []Record) ([]BatchResult, error) {
	if err := validateUsage(records, apiCurrent, false); err != nil {
		return nil, fmt.Errorf("usage: push usage in batches: %w", err)
	}
	if c.key == nil {
		return nil, fmt.Errorf("usage: push usage in batches: %w: no seller key (use WithSellerKey)", koogallery.ErrInvalidRequest)
	}
	results := make([]BatchResult, 0, (len(records)+MaxRecords-1)/MaxRecords)
	var errs []error
	stop := error(nil)
	for off := 0; off < len(records); off += MaxRecords {
		end := min(off+MaxRecords, len(records))
		br := BatchResult{Offset: off, Count: end - off}
		if stop == nil && ctx.Err() != nil {
			stop = ctx.Err()
		}
		if stop != nil {
			br.Err = fmt.Errorf("%w (records %d-%d): %w", ErrBatchNotSent, off, end-1, stop)
		} else {
			br.Result, br.Err = c.pushUsage(ctx, records[off:end])
			if br.Err != nil {
				br.Err = fmt.Errorf("records %d-%d: %w", off, end-1, br.Err)
				if errors.Is(br.Err, koogallery.ErrAuthentication) || errors.Is(br.Err, koogallery.ErrPermission) {
					stop = errors.New("an earlier batch was refused")
				}
			}
		}
		if br.Err != nil {
			errs = append(errs, br.Err)
		}
		results = append(results, br)
	}
	return results, errors.Join(errs...)
}
