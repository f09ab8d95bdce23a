package coldmove_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The environment variables of design.md; the template may set no other.
var designVars = []string{
	"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PROJECT_ID",
	"COLDMOVE_REGION", "COLDMOVE_ECS_ENDPOINT",
	"NATS_URL", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD", "NATS_CA", "NATS_CERT", "NATS_KEY",
	"COLDMOVE_SUBJECT_PREFIX", "COLDMOVE_STREAM", "COLDMOVE_LEDGER_BUCKET",
	"COLDMOVE_MIGRATION_TIMEOUT", "COLDMOVE_POLL_INTERVAL", "COLDMOVE_POLL_CONCURRENCY", "COLDMOVE_API_RATE",
	"COLDMOVE_HTTP_ADDR", "COLDMOVE_LOG_LEVEL",
}

// secretVars must come from NoEcho parameters.
var secretVars = []string{"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "NATS_CREDS", "NATS_PASSWORD"}

// node finds a mapping value by key path.
func node(n *yaml.Node, path ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func keys(n *yaml.Node) []string {
	var out []string
	if n == nil {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("template.yaml does not parse: %v", err)
	}
	if got := node(&doc, "Transform").Value; got != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %q", got)
	}
	fn := node(&doc, "Globals", "Function")
	for key, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap"} {
		if got := node(fn, key); got == nil || got.Value != want {
			t.Errorf("Globals.Function.%s = %v, want %s", key, got, want)
		}
	}
	if a := node(fn, "Architectures"); a == nil || len(a.Content) != 1 || a.Content[0].Value != "arm64" {
		t.Error("Globals.Function.Architectures is not [arm64], which the Makefile's build targets produce")
	}

	// Every variable is one of design.md's; secrets come from NoEcho parameters.
	params := node(&doc, "Parameters")
	envs := []*yaml.Node{node(fn, "Environment", "Variables")}
	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	functions := map[string]string{"MigrateFunction": "./functions/migrate", "PollFunction": "./functions/poll"}
	for name, pkg := range functions {
		f := node(&doc, "Resources", name)
		if f == nil || node(f, "Type").Value != "AWS::Serverless::Function" {
			t.Fatalf("no function %s", name)
		}
		if node(f, "Metadata", "BuildMethod").Value != "makefile" || node(f, "Properties", "CodeUri").Value != "." {
			t.Errorf("%s: not built by the Makefile from the module root", name)
		}
		target := regexp.MustCompile(`(?m)^build-` + name + `:\n\t.*GOARCH=arm64.*-tags lambda\.norpc.*-o \$\(ARTIFACTS_DIR\)/bootstrap ` + regexp.QuoteMeta(pkg) + `$`)
		if !target.Match(makefile) {
			t.Errorf("Makefile has no build-%s target building %s into $(ARTIFACTS_DIR)/bootstrap", name, pkg)
		}
		if e := node(f, "Properties", "Environment", "Variables"); e != nil {
			envs = append(envs, e)
		}
	}
	for _, env := range envs {
		for i := 0; i+1 < len(env.Content); i += 2 {
			name, val := env.Content[i].Value, env.Content[i+1]
			if !slices.Contains(designVars, name) {
				t.Errorf("variable %s is not in design.md", name)
			}
			if slices.Contains(secretVars, name) {
				p := node(params, val.Value)
				if val.Tag != "!Ref" || p == nil || node(p, "NoEcho") == nil || node(p, "NoEcho").Value != "true" {
					t.Errorf("secret %s is not a !Ref to a NoEcho parameter", name)
				}
			}
		}
	}

	// migrate: SQS with partial batch failures, and an EventBridge rule.
	ev := node(&doc, "Resources", "MigrateFunction", "Properties", "Events")
	types := map[string]*yaml.Node{}
	for _, k := range keys(ev) {
		types[node(ev, k, "Type").Value] = node(ev, k, "Properties")
	}
	if sqs := types["SQS"]; sqs == nil || !strings.Contains(node(sqs, "FunctionResponseTypes").Content[0].Value, "ReportBatchItemFailures") {
		t.Error("migrate has no SQS event reporting batch item failures")
	}
	if rule := types["EventBridgeRule"]; rule == nil || node(rule, "Pattern", "detail-type").Content[0].Value != "dev.coldmove.placement.requested" {
		t.Error("migrate has no EventBridge rule for dev.coldmove.placement.requested")
	}
	// poll: a schedule, never retried.
	pev := node(&doc, "Resources", "PollFunction", "Properties", "Events")
	if len(keys(pev)) != 1 || node(pev, keys(pev)[0], "Type").Value != "Schedule" {
		t.Error("poll is not triggered by a Schedule event")
	}
	if r := node(&doc, "Resources", "PollFunction", "Properties", "EventInvokeConfig", "MaximumRetryAttempts"); r == nil || r.Value != "0" {
		t.Error("poll ticks are retried")
	}
	// Every !Ref names a parameter or a resource.
	resources := node(&doc, "Resources")
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Tag == "!Ref" && node(params, n.Value) == nil && node(resources, n.Value) == nil {
			t.Errorf("!Ref %s names nothing", n.Value)
		}
		if n.Tag == "!GetAtt" && node(resources, strings.Split(n.Value, ".")[0]) == nil {
			t.Errorf("!GetAtt %s names no resource", n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
}
