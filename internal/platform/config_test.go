package platform_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/platform"
	"github.com/coldmove/coldmove/ledger"
)

func TestConfig_formattingHidesSecrets(t *testing.T) {
	t.Parallel()
	c := platform.Config{
		ECSConfig: platform.ECSConfig{AccessKey: "AKIDSECRET", SecretKey: "sk-secret", SecurityToken: "tok-secret",
			ProjectID: strings.Repeat("a", 32), Region: "cn-north-4"},
		BusConfig:    bus.DefaultConfig(),
		LedgerConfig: ledger.DefaultConfig(),
		LogLevel:     "info",
	}
	c.URL = "nats://user:pw-secret@127.0.0.1:4222"
	c.Password = "pw-secret"
	c.Creds = "-----BEGIN NATS USER JWT-----\njwt-secret\n------END NATS USER JWT------"
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", c, "bus", c.BusConfig)
	out := fmt.Sprintf("%v %+v %#v %s", c, c, c, c) + fmt.Sprintf("%v %#v", c.BusConfig, c.BusConfig) + logs.String()
	for _, secret := range []string{"AKIDSECRET", "sk-secret", "tok-secret", "pw-secret", "jwt-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("formatting shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "cn-north-4") || !strings.Contains(out, "127.0.0.1:4222") {
		t.Errorf("formatting hides what is not secret:\n%s", out)
	}
}

func TestConfig_Check(t *testing.T) {
	t.Parallel()
	c := platform.Config{BusConfig: bus.DefaultConfig(), LedgerConfig: ledger.DefaultConfig(), LogLevel: "loud"}
	vars := map[string]bool{}
	for _, p := range c.Check() {
		vars[p.Var] = true
	}
	for _, v := range []string{"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "COLDMOVE_REGION", "COLDMOVE_LOG_LEVEL"} {
		if !vars[v] {
			t.Errorf("Check does not name %s (names %v)", v, vars)
		}
	}
}
