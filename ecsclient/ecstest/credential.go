package ecstest

import (
	"crypto/rand"
	"fmt"
)

// Credential is an access key the simulator accepts. With a SecurityToken it
// is a temporary credential: requests must then carry that token in
// X-Security-Token. Its String and GoString never reveal the secret key or
// the token, and show only the start of the access key.
type Credential struct {
	AccessKey     string `json:"access_key"`
	SecretKey     string `json:"secret_key"`
	SecurityToken string `json:"security_token,omitempty"`
}

// String describes the credential without its secrets.
func (c Credential) String() string {
	return fmt.Sprintf("ecstest.Credential{AccessKey:%s SecretKey:%s SecurityToken:%s}",
		redact(c.AccessKey, 4), redact(c.SecretKey, 0), redact(c.SecurityToken, 0))
}

// GoString is [Credential.String], so %#v does not reveal secrets either.
func (c Credential) GoString() string { return c.String() }

// redact shows at most keep leading characters of s.
func redact(s string, keep int) string {
	switch {
	case s == "":
		return `""`
	case len(s) <= keep*2:
		return "***"
	default:
		return s[:keep] + "***"
	}
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
func randomString(n int, alphabet string) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // never fails: crypto/rand.Read panics or succeeds
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(buf)
}
