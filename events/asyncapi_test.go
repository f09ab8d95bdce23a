package events_test

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/coldmove/coldmove/events"
)

type asyncAPI struct {
	AsyncAPI string `yaml:"asyncapi"`
	Info     struct {
		Title   string `yaml:"title"`
		Version string `yaml:"version"`
	} `yaml:"info"`
	Channels map[string]struct {
		Address  string         `yaml:"address"`
		Messages map[string]ref `yaml:"messages"`
		Params   map[string]any `yaml:"parameters"`
	} `yaml:"channels"`
	Operations map[string]struct {
		Action   string `yaml:"action"`
		Channel  ref    `yaml:"channel"`
		Messages []ref  `yaml:"messages"`
	} `yaml:"operations"`
	Components struct {
		Messages map[string]struct {
			Name        string `yaml:"name"`
			ContentType string `yaml:"contentType"`
			Payload     ref    `yaml:"payload"`
			Traits      []ref  `yaml:"traits"`
		} `yaml:"messages"`
		MessageTraits map[string]any `yaml:"messageTraits"`
	} `yaml:"components"`
}

type ref struct {
	Ref string `yaml:"$ref"`
}

func TestAsyncAPI(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc asyncAPI
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("asyncapi.yaml does not parse: %v", err)
	}
	if doc.AsyncAPI != "3.0.0" || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Fatalf("asyncapi = %q, info = %+v", doc.AsyncAPI, doc.Info)
	}

	// Every local reference names something that exists.
	resolve := func(r string) bool {
		parts := strings.Split(strings.TrimPrefix(r, "#/"), "/")
		switch {
		case len(parts) == 3 && parts[0] == "components" && parts[1] == "messages":
			_, ok := doc.Components.Messages[parts[2]]
			return ok
		case len(parts) == 3 && parts[0] == "components" && parts[1] == "messageTraits":
			_, ok := doc.Components.MessageTraits[parts[2]]
			return ok
		case len(parts) == 2 && parts[0] == "channels":
			_, ok := doc.Channels[parts[1]]
			return ok
		case len(parts) == 4 && parts[0] == "channels" && parts[2] == "messages":
			_, ok := doc.Channels[parts[1]].Messages[parts[3]]
			return ok
		}
		return false
	}
	for name, ch := range doc.Channels {
		for _, p := range []string{"{prefix}", "{server_id}"} {
			if !strings.Contains(ch.Address, p) {
				t.Errorf("channel %s address %q lacks %s", name, ch.Address, p)
			}
			if _, ok := ch.Params[strings.Trim(p, "{}")]; !ok {
				t.Errorf("channel %s does not describe parameter %s", name, p)
			}
		}
		for _, m := range ch.Messages {
			if !resolve(m.Ref) {
				t.Errorf("channel %s: dangling message ref %q", name, m.Ref)
			}
		}
	}
	for name, op := range doc.Operations {
		if op.Action != "send" && op.Action != "receive" {
			t.Errorf("operation %s: action %q", name, op.Action)
		}
		if !resolve(op.Channel.Ref) {
			t.Errorf("operation %s: dangling channel ref %q", name, op.Channel.Ref)
		}
		for _, m := range op.Messages {
			if !resolve(m.Ref) || !strings.HasPrefix(m.Ref, op.Channel.Ref+"/") {
				t.Errorf("operation %s: message ref %q is not a message of its channel", name, m.Ref)
			}
		}
	}

	// Every coldmove type has its channel, message and schema, and every
	// schema file the document names exists in the embedded schemas.
	byName := map[string]string{}
	for key, m := range doc.Components.Messages {
		byName[m.Name] = key
		for _, tr := range m.Traits {
			if !resolve(tr.Ref) {
				t.Errorf("message %s: dangling trait %q", key, tr.Ref)
			}
		}
		schemaFile := path.Join("schemas", path.Base(m.Payload.Ref))
		if !strings.HasPrefix(m.Payload.Ref, "./schemas/") {
			t.Errorf("message %s: payload %q is not a file in schemas/", key, m.Payload.Ref)
		}
		if _, err := fs.Stat(events.Schemas, schemaFile); err != nil {
			t.Errorf("message %s: payload schema %s: %v", key, m.Payload.Ref, err)
		}
		if m.ContentType != events.ContentType {
			t.Errorf("message %s: content type %q", key, m.ContentType)
		}
	}
	for _, typ := range events.Types() {
		key, ok := byName[typ]
		if !ok {
			t.Errorf("no message named %s", typ)
			continue
		}
		if want := events.SchemaFile(typ); "./"+want != doc.Components.Messages[key].Payload.Ref {
			t.Errorf("message %s payload = %q, want ./%s", key, doc.Components.Messages[key].Payload.Ref, want)
		}
		ch, ok := doc.Channels[key]
		if !ok {
			t.Errorf("no channel for %s", typ)
			continue
		}
		addr := strings.NewReplacer("{prefix}", events.DefaultPrefix, "{server_id}", serverID).Replace(ch.Address)
		if want := events.OutcomeSubject(events.DefaultPrefix, typ, serverID); addr != want {
			t.Errorf("channel %s address resolves to %q, events builds %q", key, addr, want)
		}
	}
}
