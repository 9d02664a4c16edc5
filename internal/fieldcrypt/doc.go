// Package fieldcrypt implements the AES field encryption of KooGallery's SaaS
// V1 interface (KooGallery's SaaS V1 newInstance page, zh-cn_topic_0070649013,
// and Huawei's EncryptTest demo): the appInfo user name and password a seller
// returns, and the mobilePhone and email KooGallery sends.
//
// A field on the wire is the 16-character IV text followed by the standard
// Base64 of the AES/CBC/PKCS5Padding ciphertext; the IV bytes are the ASCII
// bytes of that text. The AES key is derived from the seller Key with Java's
// SHA1PRNG, which is what makes the scheme hard to reproduce by hand; see
// DeriveKeys.
package fieldcrypt
