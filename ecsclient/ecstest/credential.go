package ecstest

import (
	"crypto/rand"

	"github.com/coldmove/coldmove/secret"
)

// Credential is an access key the simulator accepts. With a SecurityToken it
// is a temporary credential: requests must then carry that token in
// X-Security-Token. Its fields are [secret.String] values, as in
// [ecsclient.Credentials] (to which a Credential converts), so it prints,
// logs and encodes redacted; a JSON seed sets them as plain strings.
type Credential struct {
	AccessKey     secret.String `json:"access_key"`
	SecretKey     secret.String `json:"secret_key"`
	SecurityToken secret.String `json:"security_token,omitempty"`
}

// GenerateCredential returns a fresh random permanent credential: a
// 20-character access key and a 40-character secret key, in the style of
// Huawei Cloud keys.
func GenerateCredential() Credential {
	return Credential{AccessKey: randomString(20, upperAlnum), SecretKey: randomString(40, mixedAlnum)}
}

// GenerateTemporaryCredential returns a fresh random temporary credential:
// like [GenerateCredential] plus a security token.
func GenerateTemporaryCredential() Credential {
	c := GenerateCredential()
	c.SecurityToken = randomString(96, mixedAlnum)
	return c
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString returns n characters of alphabet chosen by crypto/rand.
func randomString(n int, alphabet string) secret.String {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // never fails: crypto/rand.Read panics or succeeds
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return secret.String(buf)
}
