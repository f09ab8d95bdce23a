package ecsclient

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// verifySignature checks an SDK-HMAC-SHA256 request as a gateway would, from
// what arrived on the wire and the client's own SignedHeaders list. It is a
// second, deliberately separate implementation (it shares no code with
// canonical.go), so a mismatch between what is signed and what is sent
// shows up here.
func verifySignature(r *http.Request, body []byte, c Credentials) error {
	auth := r.Header.Get("Authorization")
	const prefix = "SDK-HMAC-SHA256 "
	if !strings.HasPrefix(auth, prefix) {
		return fmt.Errorf("authorization %q lacks the algorithm", auth)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, prefix), ", ") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("authorization part %q malformed", part)
		}
		fields[k] = v
	}
	if fields["Access"] != c.AccessKey.Reveal() {
		return fmt.Errorf("access key %q, want %q", fields["Access"], c.AccessKey.Reveal())
	}
	date := r.Header.Get("X-Sdk-Date")
	if _, err := time.Parse("20060102T150405Z", date); err != nil {
		return fmt.Errorf("X-Sdk-Date %q: %v", date, err)
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !contains(signed, "x-sdk-date") {
		return fmt.Errorf("x-sdk-date not signed: %v", signed)
	}
	if c.SecurityToken != "" && (r.Header.Get("X-Security-Token") != c.SecurityToken.Reveal() || !contains(signed, "x-security-token")) {
		return fmt.Errorf("security token missing or unsigned")
	}

	var uri strings.Builder
	for i, seg := range strings.Split(r.URL.Path, "/") {
		if i > 0 {
			uri.WriteByte('/')
		}
		uri.WriteString(pctEncode(seg))
	}
	u := uri.String()
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	var pairs []string
	var keys []string
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, pctEncode(k)+"="+pctEncode(v))
		}
	}
	var hdr strings.Builder
	for _, name := range signed {
		var vs []string
		if name == "host" {
			vs = []string{r.Host}
		} else {
			vs = append(vs, r.Header.Values(name)...)
		}
		if len(vs) == 0 {
			return fmt.Errorf("signed header %q not on the wire", name)
		}
		sort.Strings(vs)
		for _, v := range vs {
			fmt.Fprintf(&hdr, "%s:%s\n", name, strings.TrimSpace(v))
		}
	}
	sum := sha256.Sum256(body)
	canon := strings.Join([]string{r.Method, u, strings.Join(pairs, "&"), hdr.String(), fields["SignedHeaders"], hex.EncodeToString(sum[:])}, "\n")
	csum := sha256.Sum256([]byte(canon))
	mac := hmac.New(sha256.New, []byte(c.SecretKey.Reveal()))
	mac.Write([]byte("SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(csum[:])))
	if want := hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return fmt.Errorf("signature mismatch; server canonical request:\n%s", canon)
	}
	return nil
}

func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
