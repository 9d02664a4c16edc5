// Package auth implements Huawei Cloud API Gateway AK/SK request signing,
// the "SDK-HMAC-SHA256" scheme that every KooGallery open API requires.
//
// A [Signer] signs an *http.Request in place: it stamps X-Sdk-Date from its
// clock (always replacing a stale value), hashes the exact body bytes and
// adds the Authorization header. A [Transport] signs every request that goes
// through it, so retries and redirects are signed afresh. A [Verifier] does
// what the gateway does: it recomputes the signature of a received request,
// which powers the fake marketplace in package koogallerytest and sellers who
// front their own APIs with the same scheme.
//
// The signed headers are host, x-sdk-date, content-type (when present),
// x-sdk-content-sha256 (when present; its value then replaces the payload
// hash, for example "UNSIGNED-PAYLOAD" for streamed uploads),
// x-security-token (for temporary credentials) and any extra names given to
// [WithSignedHeaders]. The canonical form is computed from the decoded path
// and query, exactly as the gateway decodes what it receives, so any valid
// percent-encoding on the wire verifies.
//
// Credentials are fixed (NewSigner) or asked of a [CredentialsProvider] at
// every signature (NewSignerFrom): [StaticCredentials], [EnvCredentials],
// or the temporary credentials of an ECS or CCE agency from
// [MetadataCredentials] behind a [CredentialsCache], so that rotation needs
// no restart.
//
// The secret key never appears in errors, debug output or panics; the
// security token and the Authorization value are redacted from debug output.
package auth
