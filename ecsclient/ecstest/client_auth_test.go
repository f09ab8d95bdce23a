package ecstest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/secret"
)

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	temp := ecstest.GenerateTemporaryCredential()
	tests := map[string]struct {
		opts    func(srv *ecstest.Server) []ecsclient.Option
		server  []ecstest.Option
		wantErr error
	}{
		"generated credential": {opts: func(*ecstest.Server) []ecsclient.Option { return nil }},
		"wrong secret key": {
			opts: func(srv *ecstest.Server) []ecsclient.Option {
				c := srv.Credentials()
				c.SecretKey = "not-the-secret"
				return []ecsclient.Option{ecsclient.WithCredentials(c)}
			},
			wantErr: ecsclient.ErrAuthFailed,
		},
		"unknown access key": {
			opts: func(*ecstest.Server) []ecsclient.Option {
				c := ecstest.GenerateCredential()
				return []ecsclient.Option{ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: c.AccessKey, SecretKey: c.SecretKey})}
			},
			wantErr: ecsclient.ErrAuthFailed,
		},
		"client clock 20 minutes behind the gateway": {
			opts:    func(*ecstest.Server) []ecsclient.Option { return nil },
			server:  []ecstest.Option{ecstest.WithGatewayClock(ecstest.NewManualClock(time.Now().Add(20 * time.Minute)))},
			wantErr: ecsclient.ErrAuthFailed,
		},
		"temporary credential": {
			opts: func(*ecstest.Server) []ecsclient.Option {
				return []ecsclient.Option{ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: temp.AccessKey, SecretKey: temp.SecretKey, SecurityToken: temp.SecurityToken})}
			},
			server: []ecstest.Option{ecstest.WithCredentials(temp)},
		},
		"temporary credential without its token": {
			opts: func(*ecstest.Server) []ecsclient.Option {
				return []ecsclient.Option{ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: temp.AccessKey, SecretKey: temp.SecretKey})}
			},
			server:  []ecstest.Option{ecstest.WithCredentials(temp)},
			wantErr: ecsclient.ErrAuthFailed,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := ecstest.NewServer(t, tt.server...)
			sv := srv.AddServer(ecstest.ServerSpec{})
			client := srv.Client(tt.opts(srv)...)
			_, err := client.ShowServer(t.Context(), srv.ProjectID(), sv)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				for _, s := range []secret.String{srv.Credentials().SecretKey, temp.SecretKey, temp.SecurityToken} {
					if strings.Contains(err.Error(), s.Reveal()) {
						t.Errorf("error reveals a secret: %v", err)
					}
				}
			}
		})
	}
}
