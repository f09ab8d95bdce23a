package ecspool

import (
	"log/slog"

	"github.com/coldmove/coldmove/ids"
	"github.com/coldmove/coldmove/internal/config"
)

// Config is the ECS part of a function's configuration, named as the
// official SDK and design.md name it.
type Config struct {
	AccessKey     string `envconfig:"HUAWEICLOUD_SDK_AK" required:"true" desc:"access key (AK) for SDK-HMAC-SHA256 signing"`
	SecretKey     string `envconfig:"HUAWEICLOUD_SDK_SK" required:"true" secret:"true" desc:"secret key (SK)"`
	SecurityToken string `envconfig:"HUAWEICLOUD_SDK_SECURITY_TOKEN" secret:"true" desc:"security token, for temporary credentials"`
	ProjectID     string `envconfig:"HUAWEICLOUD_SDK_PROJECT_ID" required:"true" desc:"default project id (32 hex characters)"`
	Region        string `envconfig:"COLDMOVE_REGION" required:"true" desc:"default region, e.g. cn-north-4"`
	Endpoint      string `envconfig:"COLDMOVE_ECS_ENDPOINT" desc:"ECS endpoint overriding https://ecs.{region}.myhuaweicloud.com for every region"`
}

// String describes the configuration without its secrets.
func (c Config) String() string {
	s := "ecs(region=" + c.Region + ", project=" + c.ProjectID
	if c.Endpoint != "" {
		s += ", endpoint=" + c.Endpoint
	}
	return s + ")"
}

// GoString is [Config.String], so that %#v does not print secrets either.
func (c Config) GoString() string { return c.String() }

// LogValue is [Config.String], for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Check reports the problems of values that parsed.
func (c Config) Check() []config.Problem {
	var ps []config.Problem
	if c.AccessKey == "" {
		ps = append(ps, config.Problem{Var: "HUAWEICLOUD_SDK_AK", Problem: "must not be empty"})
	}
	if c.SecretKey == "" {
		ps = append(ps, config.Problem{Var: "HUAWEICLOUD_SDK_SK", Problem: "must not be empty"})
	}
	if !ids.Project.Valid(c.ProjectID) {
		ps = append(ps, config.Problem{Var: "HUAWEICLOUD_SDK_PROJECT_ID", Problem: "must be " + ids.Project.Rule()})
	}
	if !ids.Region.Valid(c.Region) {
		ps = append(ps, config.Problem{Var: "COLDMOVE_REGION", Problem: "must be " + ids.Region.Rule()})
	}
	return ps
}
