// Package vectors generates the signature and encryption vectors published
// under testdata/vectors: every scheme KooGallery and Huawei's API Gateway
// use, each vector with its inputs, the intermediate values (canonical
// request, string to sign, canonical payload, derived key) and the outputs,
// computed by the SDK's own code. docs/vectors.md describes the contract;
// `go run ./internal/vectors/gen` writes the files, TestFilesAreCurrent
// keeps them from drifting, and testdata/vectors/check.mjs recomputes every
// one of them in Node with nothing but its built-in crypto.
package vectors

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/canonjson"
	"github.com/isvkit/koogallery/internal/fieldcrypt"
	"github.com/isvkit/koogallery/internal/v1sign"
)

// File is one file of vectors: a scheme and its cases.
type File struct {
	Scheme      string `json:"scheme"`
	Description string `json:"description"`
	Vectors     []any  `json:"vectors"`
}

// Key is the secret of every callback vector (the spec's test key).
const Key = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"

// Generate computes every file, by name.
func Generate() (map[string]File, error) {
	files := map[string]File{}
	for name, gen := range map[string]func() (File, error){
		"apig.json":             apig,
		"v2.json":               v2,
		"kit.json":              kit,
		"v1-query.json":         v1Query,
		"v1-kit.json":           v1Kit,
		"body-sign.json":        bodySign,
		"field-encryption.json": fieldEncryption,
		"jackson.json":          jackson,
	} {
		f, err := gen()
		if err != nil {
			return nil, fmt.Errorf("vectors: %s: %w", name, err)
		}
		files[name] = f
	}
	return files, nil
}

// Marshal writes f as the file holds it: indented, HTML characters as
// they are, a final newline.
func Marshal(f File) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// apigCase is one API Gateway request to sign.
type apigCase struct {
	Name             string            `json:"name"`
	AccessKey        string            `json:"access_key"`
	SecretKey        string            `json:"secret_key"`
	Time             string            `json:"time"`
	Method           string            `json:"method"`
	URL              string            `json:"url"`
	Headers          map[string]string `json:"headers"`
	Body             string            `json:"body"`
	SentHeaders      map[string]string `json:"sent_headers"`
	SignedHeaders    string            `json:"signed_headers"`
	CanonicalRequest string            `json:"canonical_request"`
	StringToSign     string            `json:"string_to_sign"`
	Signature        string            `json:"signature"`
	Authorization    string            `json:"authorization"`
}

func apig() (File, error) {
	at := time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)
	order := "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=CS2611270001ABCDE&orderLineId=CS2611270001ABCDE-000001"
	cases := []apigCase{
		{Name: "GET order query", Method: "GET", URL: order, Headers: map[string]string{"Content-Type": "application/json;charset=UTF-8"}},
		{Name: "POST JSON body", Method: "POST", URL: "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/license/activate",
			Headers: map[string]string{"Content-Type": "application/json;charset=UTF-8"},
			Body:    `{"licenseCode":"LC-0001","deviceId":"dev-1","productId":"OFFI000000000000000001"}`},
		{Name: "query to canonicalise: order, repeats, empty value, reserved characters", Method: "GET",
			URL:     "https://mkt.myhuaweicloud.com/v1/items?b=2&a=z&a=y&empty=&flag&q=%E4%B8%80%20(%26%3D%3F!%23%25.*)&slash=%2Ftmp%2F123&plus=a%2Bb",
			Headers: map[string]string{"Content-Type": "application/json"}},
		{Name: "unicode and reserved characters in the path", Method: "GET",
			URL:     "https://mkt.myhuaweicloud.com/v1/files/%E6%96%87%E4%BB%B6%20a+b~c/x",
			Headers: map[string]string{"Content-Type": "application/json"}},
		{Name: "PUT with temporary credentials and a port", Method: "PUT", URL: "https://127.0.0.1:8443/v1/usage",
			Headers: map[string]string{"Content-Type": "application/json", "X-Project-Id": "  proj-1  "},
			Body:    "{\"records\":[]}\n"},
	}
	var out []any
	for i := range cases {
		c := &cases[i]
		c.AccessKey, c.SecretKey, c.Time = "QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", at.Format(time.RFC3339)
		var token string
		if strings.HasPrefix(c.Name, "PUT with temporary") {
			token = "temporary-security-token"
		}
		var dbg auth.Debug
		opts := []auth.SignerOption{auth.WithClock(func() time.Time { return at }), auth.WithDebug(func(d auth.Debug) { dbg = d })}
		if token != "" {
			opts = append(opts, auth.WithSecurityToken(token))
		}
		s, err := auth.NewSigner(c.AccessKey, c.SecretKey, opts...)
		if err != nil {
			return File{}, err
		}
		var body io.Reader
		if c.Body != "" {
			body = strings.NewReader(c.Body)
		}
		req, err := http.NewRequest(c.Method, c.URL, body)
		if err != nil {
			return File{}, err
		}
		for k, v := range c.Headers {
			req.Header.Set(k, v)
		}
		if err := s.Sign(req); err != nil {
			return File{}, err
		}
		c.SignedHeaders, c.StringToSign = dbg.SignedHeaders, dbg.StringToSign
		c.CanonicalRequest = dbg.CanonicalRequest
		if token != "" {
			// The debug hook redacts the token; the vector shows what was hashed.
			c.CanonicalRequest = strings.Replace(c.CanonicalRequest, "x-security-token:<redacted>\n", "x-security-token:"+token+"\n", 1)
		}
		sum := sha256.Sum256([]byte(c.CanonicalRequest))
		if !strings.HasSuffix(c.StringToSign, hex.EncodeToString(sum[:])) {
			return File{}, fmt.Errorf("%s: the canonical request shown is not the one hashed", c.Name)
		}
		c.Authorization = req.Header.Get("Authorization")
		c.Signature = c.Authorization[strings.LastIndex(c.Authorization, "=")+1:]
		c.SentHeaders = map[string]string{"host": req.Host}
		if req.Host == "" {
			c.SentHeaders["host"] = req.URL.Host
		}
		for k := range req.Header {
			if k != "Authorization" {
				c.SentHeaders[strings.ToLower(k)] = req.Header.Get(k)
			}
		}
		out = append(out, c)
	}
	return File{Scheme: "SDK-HMAC-SHA256",
		Description: "Huawei API Gateway AK/SK signing, as KooGallery's open APIs require. url is the request URL: the " +
			"canonical URI escapes each decoded path segment and ends in '/', the canonical query sorts the decoded pairs " +
			"('+' is a space) by name, then value, escaping both; sent_headers are the headers sent besides Authorization " +
			"(names lower-case, values as sent), of which the canonical request lists the signed_headers with their values " +
			"trimmed. time is the signing time, sent as X-Sdk-Date.",
		Vectors: out}, nil
}

type v2Case struct {
	Name             string `json:"name"`
	AccessKey        string `json:"access_key"`
	Nonce            string `json:"nonce"`
	Timestamp        string `json:"timestamp"`
	Body             string `json:"body"`
	CanonicalPayload string `json:"canonical_payload"`
	Inner            string `json:"inner"`
	StringToSign     string `json:"string_to_sign"`
	Signature        string `json:"signature"`
}

func v2() (File, error) {
	bodies := []struct{ name, body string }{
		{"newInstance as KooGallery sends it (unsorted, a null member)", `{"orderLineId":"CS2611270001ABCDE-000001","activity":"newInstance","testFlag":"0","orderId":"CS2611270001ABCDE","businessId":"2b7c1f0e-3a54-4d6e-9f12-7a8b9c0d1e2f","extra":null}`},
		{"already canonical", `{"activity":"queryInstance","instanceId":"inst-0001","testFlag":"1"}`},
		{"spaces, non-ASCII and an escaped slash kept as received", `{ "memo" : "续费 a\/b", "activity":"refreshInstance", "expireTime":"20271231235959" }`},
		{"orderNotify", `{"orderId":"CS2611270001ABCDE","orderLineId":"CS2611270001ABCDE-000001","orderType":"NEW","activity":"orderNotify"}`},
	}
	key := callback.NewKey(Key)
	var out []any
	for _, b := range bodies {
		payload, err := canonjson.Append(nil, []byte(b.body))
		if err != nil {
			return File{}, err
		}
		c := v2Case{Name: b.name, AccessKey: Key, Nonce: "Q7ZP0L3XW9M2K8RT", Timestamp: "1795768200123", Body: b.body, CanonicalPayload: string(payload)}
		c.Inner = hmacHex(Key, payload)
		c.StringToSign = Key + c.Nonce + c.Timestamp + c.Inner
		c.Signature = key.SignV2(c.Nonce, c.Timestamp, payload)
		if !strings.EqualFold(c.Signature, hmacHex(Key, []byte(c.StringToSign))) {
			return File{}, fmt.Errorf("%s: SignV2 disagrees with the intermediate values", b.name)
		}
		out = append(out, c)
	}
	return File{Scheme: "KooGallery V2 signature (SaaS V2, License 2.0, orderNotify)",
		Description: "The signature, timestamp (ms) and nonce arrive as URL query parameters. canonical_payload is the body " +
			"with top-level members sorted, null members dropped, compacted (values as received); inner = " +
			"lowerhex(HMAC-SHA256(access_key, canonical_payload)); signature = HEX(HMAC-SHA256(access_key, " +
			"access_key+nonce+timestamp+inner)), upper-case as KooGallery sends it; compare case-insensitively.",
		Vectors: out}, nil
}

type kitCase struct {
	Name             string `json:"name"`
	AccessKey        string `json:"access_key"`
	Nonce            string `json:"nonce"`
	Timestamp        string `json:"timestamp"`
	Body             string `json:"body"`
	CanonicalPayload string `json:"canonical_payload"`
	StringToSign     string `json:"string_to_sign"`
	Signature        string `json:"signature"`
}

func kit() (File, error) {
	bodies := []struct{ name, body string }{
		{"tenantSync as documented (unsorted, spaced)", `{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`},
		{"authSync with a user list (nested order kept)", `{"instanceId":"inst-0001","flag":1,"userList":[{"userName":"alice","role":"admin","name":"Alice"},{"userName":"bob","role":"user"}],"timeStamp":"20261127163000123","tenantId":"t-1"}`},
	}
	key := callback.NewKey(Key)
	var out []any
	for _, b := range bodies {
		payload, err := canonjson.Append(nil, []byte(b.body))
		if err != nil {
			return File{}, err
		}
		c := kitCase{Name: b.name, AccessKey: Key, Nonce: "Q7ZP0L3XW9M2K8RT", Timestamp: "1795768200123", Body: b.body, CanonicalPayload: string(payload)}
		c.StringToSign = Key + c.Nonce + c.Timestamp + string(payload)
		c.Signature = key.SignKit(c.Nonce, c.Timestamp, payload)
		if c.Signature != hmacHex(Key, []byte(c.StringToSign)) {
			return File{}, fmt.Errorf("%s: SignKit disagrees with the intermediate values", b.name)
		}
		out = append(out, c)
	}
	return File{Scheme: "KooGallery joint-operation kit V2 x-sign",
		Description: "Headers x-sign, x-timestamp (ms), x-nonce. canonical_payload as for V2 (numbers stay numbers, nested " +
			"values keep their order, compacted); signature = lowerhex(HMAC-SHA256(access_key, access_key+nonce+timestamp+" +
			"canonical_payload)): one stage, the payload itself appended.",
		Vectors: out}, nil
}

type v1QueryCase struct {
	Name         string `json:"name"`
	Key          string `json:"key"`
	Query        string `json:"query"`
	StringToSign string `json:"string_to_sign"`
	HMACKey      string `json:"hmac_key"`
	AuthToken    string `json:"auth_token"`
	SignedQuery  string `json:"signed_query"`
}

func v1Query() (File, error) {
	queries := []struct{ name, q string }{
		{"refreshInstance", "activity=refreshInstance&instanceId=inst-0001&orderId=CS2611270001ABCDE&productId=OFFI000000000000000001&expireTime=20271231235959&periodType=year&periodNumber=1&testFlag=0&timeStamp=20261127083000123"},
		{"newInstance with encoded values, an empty value and an encrypted field", "activity=newInstance&businessId=2b7c1f0e&customerName=%E5%BC%A0%E4%B8%89%20Ltd&email=A1b2C3d4E5f6G7h8qh4nuZNlRTzxpqAOqs2A0w%3D%3D&memo=&orderId=CS2611270001ABCDE&testFlag=1&timeStamp=20261127083000123"},
	}
	var out []any
	for _, q := range queries {
		values, err := url.ParseQuery(q.q)
		if err != nil {
			return File{}, err
		}
		c := v1QueryCase{Name: q.name, Key: Key, Query: q.q, StringToSign: v1sign.QueryStringToSign(values), HMACKey: Key + values.Get("timeStamp")}
		if c.AuthToken, err = v1sign.SignQuery(Key, values); err != nil {
			return File{}, err
		}
		if c.AuthToken != hmacBase64(c.HMACKey, c.StringToSign) {
			return File{}, fmt.Errorf("%s: SignQuery disagrees with the intermediate values", q.name)
		}
		c.SignedQuery = q.q + "&authToken=" + url.QueryEscape(c.AuthToken)
		parsed, err := v1sign.ParseQuery(c.SignedQuery)
		if err != nil {
			return File{}, err
		}
		if err := parsed.Verify(Key); err != nil {
			return File{}, fmt.Errorf("%s: the signed query does not verify: %w", q.name, err)
		}
		out = append(out, c)
	}
	return File{Scheme: "KooGallery V1 GET authToken",
		Description: "string_to_sign: every query parameter except authToken, URL-decoded ('+' as space), sorted by name, " +
			"joined as name=value with '&' (empty values kept). hmac_key = key + timeStamp (the query's own); auth_token = " +
			"Base64(HMAC-SHA256(hmac_key, string_to_sign)); signed_query is the query KooGallery sends.",
		Vectors: out}, nil
}

type v1KitCase struct {
	Name         string `json:"name"`
	Key          string `json:"key"`
	Body         string `json:"body"`
	StringToSign string `json:"string_to_sign"`
	HMACKey      string `json:"hmac_key"`
	AuthToken    string `json:"auth_token"`
}

func v1Kit() (File, error) {
	bodies := []struct{ name, body string }{
		{"tenantSync", `{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`},
		{"blank values skipped, JSON-string list used verbatim", `{"instanceId":"inst-0001","flag":0,"memo":"  ","userList":"[{\"userName\":\"alice\"}]","timeStamp":"20261127163000123","extra":null}`},
	}
	var out []any
	for _, b := range bodies {
		sts, err := v1sign.KitStringToSign([]byte(b.body))
		if err != nil {
			return File{}, err
		}
		var ts struct {
			TimeStamp string `json:"timeStamp"`
		}
		if err := json.Unmarshal([]byte(b.body), &ts); err != nil {
			return File{}, err
		}
		c := v1KitCase{Name: b.name, Key: Key, Body: b.body, StringToSign: sts, HMACKey: Key + ts.TimeStamp}
		if c.AuthToken, err = v1sign.SignKit(Key, []byte(b.body)); err != nil {
			return File{}, err
		}
		if c.AuthToken != hmacBase64(c.HMACKey, sts) {
			return File{}, fmt.Errorf("%s: SignKit disagrees with the intermediate values", b.name)
		}
		out = append(out, c)
	}
	return File{Scheme: "KooGallery V1 kit authToken header",
		Description: "string_to_sign: the body's top-level members sorted by name, joined as name=value with '&': strings " +
			"verbatim, numbers and booleans as their literal, null and blank strings skipped. hmac_key = key + the body's " +
			"timeStamp; auth_token = Base64(HMAC-SHA256(hmac_key, string_to_sign)).",
		Vectors: out}, nil
}

type bodySignCase struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Body     string `json:"body"`
	BodySign string `json:"body_sign"`
}

func bodySign() (File, error) {
	var out []any
	for _, b := range []struct{ name, body string }{
		{"newInstance answer", `{"resultCode":"000000","resultMsg":"success","instanceId":"inst-0001"}`},
		{"answer with encrypted appInfo and a trailing newline", "{\"resultCode\":\"000000\",\"resultMsg\":\"success\",\"instanceId\":\"inst-0001\",\"encryptType\":\"1\",\"appInfo\":{\"frontEndUrl\":\"https://acme.example.com\",\"userName\":\"A1b2C3d4E5f6G7h8VH9Md9sa/hHKhzMJvfUGzrs1GTtgmIuvs1xxk5luqPg=\"}}\n"},
	} {
		c := bodySignCase{Name: b.name, Key: Key, Body: b.body, BodySign: v1sign.BodySign(Key, []byte(b.body))}
		if c.BodySign != `sign_type="HMAC-SHA256", signature="`+hmacBase64(Key, b.body)+`"` {
			return File{}, fmt.Errorf("%s: BodySign disagrees", b.name)
		}
		out = append(out, c)
	}
	return File{Scheme: "KooGallery V1 Body-Sign answer header",
		Description: "body_sign = sign_type=\"HMAC-SHA256\", signature=\"Base64(HMAC-SHA256(key, body))\" over the exact body bytes sent.",
		Vectors:     out}, nil
}

type fieldCase struct {
	Name        string `json:"name"`
	Key         string `json:"key"`
	EncryptType string `json:"encrypt_type"`
	DerivedKey  string `json:"derived_key"`
	IV          string `json:"iv"`
	Plaintext   string `json:"plaintext"`
	Field       string `json:"field"`
}

func fieldEncryption() (File, error) {
	var out []any
	for _, c := range []fieldCase{
		{Name: "AES-128 password", Key: Key, EncryptType: "2", IV: "A1b2C3d4E5f6G7h8", Plaintext: "Admin@KooGallery"},
		{Name: "AES-256 password", Key: Key, EncryptType: "1", IV: "A1b2C3d4E5f6G7h8", Plaintext: "Admin@KooGallery"},
		{Name: "AES-256 mobile phone", Key: Key, EncryptType: "1", IV: "A1b2C3d4E5f6G7h8", Plaintext: "13800138000"},
		{Name: "AES-256, a key whose derivation carries (signed-byte arithmetic)", Key: "e0IgxLd", EncryptType: "1", IV: "Zz09Yy18Xx27Ww36", Plaintext: "张三 <zhangsan@example.com>"},
		{Name: "AES-128, a UUID key, a block-sized plaintext", Key: "6513270e-269e-0d37-f2a7-4de452e6b438", EncryptType: "2", IV: "0123456789abcdef", Plaintext: "exactly16bytes!!"},
	} {
		n := 32
		if c.EncryptType == "2" {
			n = 16
		}
		key := sha1PRNG([]byte(c.Key), n)
		c.DerivedKey = hex.EncodeToString(key)
		block, err := aes.NewCipher(key)
		if err != nil {
			return File{}, err
		}
		pad := aes.BlockSize - len(c.Plaintext)%aes.BlockSize
		data := append([]byte(c.Plaintext), bytes.Repeat([]byte{byte(pad)}, pad)...)
		cipher.NewCBCEncrypter(block, []byte(c.IV)).CryptBlocks(data, data)
		c.Field = c.IV + base64.StdEncoding.EncodeToString(data)
		// The SDK must read it back.
		t, err := fieldcrypt.ParseEncryptType(c.EncryptType)
		if err != nil {
			return File{}, err
		}
		plain, err := fieldcrypt.DeriveKeys(c.Key).Decrypt(t, c.Field)
		if err != nil || plain != c.Plaintext {
			return File{}, fmt.Errorf("%s: the SDK does not decrypt the field: %v", c.Name, err)
		}
		out = append(out, c)
	}
	return File{Scheme: "KooGallery V1 field encryption (appInfo userName/password, mobilePhone, email)",
		Description: "derived_key: the first 16 (encrypt_type 2, AES-128) or 32 (1, AES-256) bytes of Java's SUN SHA1PRNG " +
			"seeded with the key's UTF-8 bytes: S0 = SHA1(key); O1 = SHA1(S0); S1 = S0 + O1 + 1 byte-wise from index 0 " +
			"with Java signed-byte arithmetic (carry = v >> 8, arithmetic); O2 = SHA1(S1); output O1 || O2. field = iv (16 " +
			"ASCII characters, as text) + Base64(AES-CBC-PKCS#7(derived_key, iv bytes, plaintext)).",
		Vectors: out}, nil
}

type jacksonCase struct {
	Name  string `json:"name"`
	Body  string `json:"body"`
	Kit   string `json:"kit_form"`
	Basic string `json:"basic_form,omitempty"`
	// BasicError says the basic form does not exist (an object or array member).
	BasicError bool `json:"basic_form_error,omitempty"`
}

func jackson() (File, error) {
	var out []any
	for _, b := range []struct{ name, body string }{
		{"escapes decoded and re-escaped Jackson's way", `{"b":"a\/b \u00e9\u4e2d \ud83d\ude00 tab\t quote\" \u0001","a":"plain"}`},
		{"numbers as Java writes them", `{"int":10,"negzero":-0,"big":12345678901234567890,"f1":1.50,"f2":1e2,"f3":-0.0,"f4":0.001,"f5":1e7,"f6":1.0E-5,"f7":123456.789,"f8":2e-3,"f9":9999999.0}`},
		{"booleans, null dropped, nested kept in order", `{"z":true,"y":null,"x":{"b":1.0,"a":"\u0041"},"w":[3,2.50,"\/"]}`},
		{"names sorted in Java (UTF-16) order", `{"\ud83d\ude00":"astral","\uff5e":"bmp","a":1}`},
	} {
		kitForm, err := canonjson.AppendJackson(nil, []byte(b.body), canonjson.KitForm)
		if err != nil {
			return File{}, err
		}
		c := jacksonCase{Name: b.name, Body: b.body, Kit: string(kitForm)}
		basic, err := canonjson.AppendJackson(nil, []byte(b.body), canonjson.BasicForm)
		if err != nil {
			c.BasicError = true
		} else {
			c.Basic = string(basic)
		}
		out = append(out, c)
	}
	return File{Scheme: "Jackson body forms (what Huawei's Java demo signs after re-serialising)",
		Description: "A verifier tries the body as received, then its canonical form, then these: kit_form binds the body as " +
			"Map<String,Object> (strings decoded and re-escaped: only '\"', '\\\\' and control characters escaped; integer " +
			"literals kept, other numbers as Java's Double.toString; top-level names sorted in UTF-16 order, nulls dropped); " +
			"basic_form binds Map<String,String> (every top-level scalar quoted as its literal text; no form when a member " +
			"is an object or array). Either is signed as the payload of v2.json or kit.json.",
		Vectors: out}, nil
}

// sha1PRNG returns the first n bytes of Java's SUN SHA1PRNG seeded with
// seed, written from the algorithm (not from package fieldcrypt), so that
// the vectors check the SDK rather than repeat it.
func sha1PRNG(seed []byte, n int) []byte {
	state := sha1.Sum(seed)
	var out []byte
	for len(out) < n {
		o := sha1.Sum(state[:])
		out = append(out, o[:]...)
		carry := 1
		changed := false
		for i := range state {
			v := int(int8(state[i])) + int(int8(o[i])) + carry
			nb := byte(v)
			changed = changed || nb != state[i]
			state[i] = nb
			carry = v >> 8
		}
		if !changed {
			state[0]++
		}
	}
	return out[:n]
}

func hmacHex(key string, msg []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

func hmacBase64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// names lists the files in a stable order.
func names(files map[string]File) []string {
	var out []string
	for n := range files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Write writes every file into dir.
func Write(dir string) error {
	files, err := Generate()
	if err != nil {
		return err
	}
	for _, name := range names(files) {
		data, err := Marshal(files[name])
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
