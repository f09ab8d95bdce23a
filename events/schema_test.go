package events_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/coldmove/coldmove/events"
)

// mustSchemas compiles every embedded schema, registered under its $id, and
// returns them by event type.
func mustSchemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := fs.Glob(events.Schemas, "schemas/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas embedded: %v", err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(events.Schemas, f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if want := "https://coldmove.dev/schemas/" + path.Base(f); id != want {
			t.Errorf("%s: $id = %q, want %q", f, id, want)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, typ := range events.Types() {
		sch, err := c.Compile(events.DataSchema(typ))
		if err != nil {
			t.Fatalf("compile %s: %v", typ, err)
		}
		out[typ] = sch
	}
	return out
}

func mustInstance(t testing.TB, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}

func TestSchemas_constructorOutputValidates(t *testing.T) {
	t.Parallel()
	schemas := mustSchemas(t)
	pub := origin()
	pub.Target = events.PublicPoolTarget()
	pub.Region = ""
	for _, o := range []events.Origin{origin(), pub} {
		for name, e := range outcomes(t, o) {
			if err := schemas[e.Type()].Validate(mustInstance(t, e.Data())); err != nil {
				t.Errorf("%s (%s): constructor output fails its schema: %v\n%s", name, o.Target, err, e.Data())
			}
		}
	}
	// Rejections of unreadable requests validate too.
	for _, body := range []string{"garbage", `{"specversion":"1.0","id":"x","source":"/s","type":"other"}`} {
		_, err := events.DecodeMessage(nil, []byte(body), now)
		de := err.(*events.DecodeError)
		e, err := events.NewRejected(de.Origin, de.Rejection(), now)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas[events.TypeRejected].Validate(mustInstance(t, e.Data())); err != nil {
			t.Errorf("rejection of %q fails its schema: %v\n%s", body, err, e.Data())
		}
	}
}

func TestSchemas_brokenSamplesFail(t *testing.T) {
	t.Parallel()
	schemas := mustSchemas(t)
	valid := outcomes(t, origin())
	tests := map[string]struct {
		sample string // a key of outcomes
		mutate func(m map[string]any)
	}{
		"accepted without job_id":         {"accepted", func(m map[string]any) { delete(m, "job_id") }},
		"accepted with bad server_id":     {"accepted", func(m map[string]any) { m["server_id"] = "srv-1" }},
		"accepted with unknown member":    {"accepted", func(m map[string]any) { m["extra"] = 1 }},
		"accepted with both targets":      {"accepted", func(m map[string]any) { m["target"] = map[string]any{"dedicated_host_id": hostID, "public_pool": true} }},
		"accepted with empty target":      {"accepted", func(m map[string]any) { m["target"] = map[string]any{} }},
		"accepted with bad deadline":      {"accepted", func(m map[string]any) { m["deadline"] = "tomorrow" }},
		"rejected with unknown reason":    {"rejected", func(m map[string]any) { m["reason"] = "because" }},
		"rejected pre-flight, no project": {"rejected", func(m map[string]any) { delete(m, "project_id") }},
		"completed in place with a job":   {"completed-inplace", func(m map[string]any) { m["job_id"] = "j" }},
		"failed with unknown reason":      {"failed", func(m map[string]any) { m["reason"] = "oops" }},
		"failed without message":          {"failed", func(m map[string]any) { delete(m, "message") }},
		"timedout without deadline":       {"timedout", func(m map[string]any) { delete(m, "deadline") }},
		"timedout with project too short": {"timedout", func(m map[string]any) { m["project_id"] = "abc" }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			if err := json.Unmarshal(valid[tc.sample].Data(), &m); err != nil {
				t.Fatal(err)
			}
			tc.mutate(m)
			b, _ := json.Marshal(m)
			if err := schemas[valid[tc.sample].Type()].Validate(mustInstance(t, b)); err == nil {
				t.Errorf("broken sample validates:\n%s", b)
			}
		})
	}
}

// TestSchemas_requestAgreesWithDecoder checks the request schema against
// every fixture: a fixture the decoder accepts validates, and one rejected
// for its payload does not.
func TestSchemas_requestAgreesWithDecoder(t *testing.T) {
	t.Parallel()
	sch := mustSchemas(t)[events.TypeRequested]
	files, _ := fs.Glob(os.DirFS("testdata"), "*.json")
	for _, f := range files {
		if strings.HasPrefix(f, "request-binary") {
			continue
		}
		var env struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(mustRead(t, f), &env); err != nil || env.Type != events.TypeRequested || len(env.Data) == 0 {
			continue // not a request with data; nothing for the schema to judge
		}
		_, decErr := events.DecodeMessage(nil, mustRead(t, f), now)
		schErr := sch.Validate(mustInstance(t, env.Data))
		payloadBad := decErr != nil && decErr.(*events.DecodeError).Reason == events.RejectInvalidPayload
		if payloadBad != (schErr != nil) {
			t.Errorf("%s: decoder says %v, schema says %v", f, decErr, schErr)
		}
	}
}

// TestSchemas_reasonsMatchTheCode checks that the reason enums of the
// rejected and failed schemas list exactly the reasons the code emits.
func TestSchemas_reasonsMatchTheCode(t *testing.T) {
	t.Parallel()
	enum := func(file string) []string {
		t.Helper()
		b, err := fs.ReadFile(events.Schemas, "schemas/"+file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Properties struct {
				Reason struct {
					Enum []string `json:"enum"`
				} `json:"reason"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Properties.Reason.Enum
	}
	var reject, fail []string
	for _, r := range events.RejectReasons() {
		reject = append(reject, string(r))
	}
	for _, r := range events.FailReasons() {
		fail = append(fail, string(r))
	}
	if diff := cmp.Diff(reject, enum("rejected.json")); diff != "" {
		t.Errorf("rejected.json reasons (-code +schema):\n%s", diff)
	}
	if diff := cmp.Diff(fail, enum("failed.json")); diff != "" {
		t.Errorf("failed.json reasons (-code +schema):\n%s", diff)
	}
}

// TestSchemas_everyRejectReason builds a rejection of every reason for a
// readable request, which must validate, and checks that the schema and
// [events.Rejected.Validate] agree on which reasons need a readable
// request's correlation.
func TestSchemas_everyRejectReason(t *testing.T) {
	t.Parallel()
	sch := mustSchemas(t)[events.TypeRejected]
	for _, reason := range events.RejectReasons() {
		t.Run(string(reason), func(t *testing.T) {
			t.Parallel()
			e, err := events.NewRejected(origin(), events.Rejection{Reason: reason, Message: "m",
				APIErrorCode: "APIGW.0301", APIErrorMessage: "Incorrect IAM authentication information"}, now)
			if err != nil {
				t.Fatalf("NewRejected: %v", err)
			}
			if err := sch.Validate(mustInstance(t, e.Data())); err != nil {
				t.Errorf("rejection fails its schema: %v\n%s", err, e.Data())
			}
			bare := events.Rejected{Rejection: events.Rejection{Reason: reason, Message: "m"}}
			b, err := json.Marshal(&bare)
			if err != nil {
				t.Fatal(err)
			}
			codeOK, schemaOK := bare.Validate() == nil, sch.Validate(mustInstance(t, b)) == nil
			if codeOK != schemaOK {
				t.Errorf("without correlation: Validate says ok=%v, the schema ok=%v\n%s", codeOK, schemaOK, b)
			}
		})
	}
}
