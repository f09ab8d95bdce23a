package natstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certs is a throwaway certificate authority with one server certificate
// for 127.0.0.1 and one client certificate, written as PEM files under
// tb.TempDir() for tests of TLS settings such as NATS_CA, NATS_CERT and
// NATS_KEY.
type Certs struct {
	// CAFile, CertFile and KeyFile are the CA certificate and the client's
	// certificate and key.
	CAFile, CertFile, KeyFile string

	pool   *x509.CertPool
	server tls.Certificate
	client tls.Certificate
}

// NewCerts creates a CA and issues the server and client certificates,
// valid for an hour. It fails the test on error.
func NewCerts(tb testing.TB) *Certs {
	tb.Helper()
	dir := tb.TempDir()
	caKey := mustKey(tb)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "natstest CA"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatalf("natstest: CA certificate: %v", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		tb.Fatalf("natstest: parse CA certificate: %v", err)
	}
	c := &Certs{pool: x509.NewCertPool()}
	c.pool.AddCert(ca)
	c.CAFile = writePEM(tb, dir, "ca.pem", "CERTIFICATE", caDER)

	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ip bool) (tls.Certificate, []byte, []byte) {
		key := mustKey(tb)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    time.Now().Add(-time.Minute),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			tb.Fatalf("natstest: %s certificate: %v", cn, err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			tb.Fatalf("natstest: %s key: %v", cn, err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, keyDER
	}
	c.server, _, _ = issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, true)
	var certDER, keyDER []byte
	c.client, certDER, keyDER = issue(3, "natstest client", x509.ExtKeyUsageClientAuth, false)
	c.CertFile = writePEM(tb, dir, "client.pem", "CERTIFICATE", certDER)
	c.KeyFile = writePEM(tb, dir, "client-key.pem", "EC PRIVATE KEY", keyDER)
	return c
}

// ServerTLS returns a server configuration that presents the server
// certificate and requires a client certificate signed by the CA.
func (c *Certs) ServerTLS() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{c.server},
		ClientCAs:    c.pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
}

// ClientTLS returns a client configuration that trusts the CA and presents
// the client certificate.
func (c *Certs) ClientTLS() *tls.Config {
	return &tls.Config{
		RootCAs:      c.pool,
		Certificates: []tls.Certificate{c.client},
		MinVersion:   tls.VersionTLS12,
	}
}

func mustKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("natstest: generate key: %v", err)
	}
	return k
}

func writePEM(tb testing.TB, dir, name, typ string, der []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatalf("natstest: write %s: %v", p, err)
	}
	return p
}
