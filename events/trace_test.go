package events_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
)

// traceCases are trace contexts as a request may carry them, with what is
// kept of them: by the decoder (into the placement and so the ledger) and
// by the outcome constructors alike.
func traceCases() map[string]struct{ parent, state, wantParent, wantState string } {
	var members32, members33 []string
	for i := range 33 {
		if i < 32 {
			members32 = append(members32, fmt.Sprintf("k%02d=v", i))
		}
		members33 = append(members33, fmt.Sprintf("k%02d=v", i))
	}
	tp := traceParent
	return map[string]struct{ parent, state, wantParent, wantState string }{
		"one member":                       {tp, "vendor=opaque", tp, "vendor=opaque"},
		"two members":                      {tp, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", tp, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
		"whitespace and empty members":     {tp, " a=1 ,\t, b=2 ,", tp, " a=1 ,\t, b=2 ,"},
		"multi-tenant keys":                {tp, "1tenant@sys=x,t_-*/@s_-*/9=y", tp, "1tenant@sys=x,t_-*/@s_-*/9=y"},
		"every printable value byte":       {tp, "k= !\"#$%&'()*+-./09:;<>?@AZ[\\]^_`az{|}~", tp, "k= !\"#$%&'()*+-./09:;<>?@AZ[\\]^_`az{|}~"},
		"longest simple key":               {tp, "a" + strings.Repeat("b", 255) + "=1", tp, "a" + strings.Repeat("b", 255) + "=1"},
		"longest tenant and system":        {tp, strings.Repeat("t", 241) + "@" + strings.Repeat("s", 14) + "=1", tp, strings.Repeat("t", 241) + "@" + strings.Repeat("s", 14) + "=1"},
		"longest value":                    {tp, "k=" + strings.Repeat("v", 256), tp, "k=" + strings.Repeat("v", 256)},
		"32 members":                       {tp, strings.Join(members32, ","), tp, strings.Join(members32, ",")},
		"no tracestate":                    {tp, "", tp, ""},
		"only empty members":               {tp, " , ,\t", tp, ""},
		"CRLF":                             {tp, "a=1\r\nx-injected: y", tp, ""},
		"tab inside a value":               {tp, "a=1\t2", tp, ""},
		"non-ASCII value":                  {tp, "a=é", tp, ""},
		"DEL in a value":                   {tp, "a=\x7f", tp, ""},
		"empty value":                      {tp, "a=", tp, ""},
		"equals sign in a value":           {tp, "a=b=c", tp, ""},
		"no equals sign":                   {tp, "a", tp, ""},
		"upper-case key":                   {tp, "Vendor=1", tp, ""},
		"simple key starting with a digit": {tp, "1a=1", tp, ""},
		"system starting with a digit":     {tp, "t@1s=1", tp, ""},
		"two at signs":                     {tp, "a@b@c=1", tp, ""},
		"empty tenant":                     {tp, "@sys=1", tp, ""},
		"key too long":                     {tp, "a" + strings.Repeat("b", 256) + "=1", tp, ""},
		"tenant too long":                  {tp, strings.Repeat("t", 242) + "@s=1", tp, ""},
		"system too long":                  {tp, "t@" + strings.Repeat("s", 15) + "=1", tp, ""},
		"value too long":                   {tp, "k=" + strings.Repeat("v", 257), tp, ""},
		"repeated key":                     {tp, "a=1,b=2,a=3", tp, ""},
		"33 members":                       {tp, strings.Join(members33, ","), tp, ""},
		"longer than 512":                  {tp, "a=" + strings.Repeat("v", 200) + ",b=" + strings.Repeat("v", 200) + ",c=" + strings.Repeat("v", 200), tp, ""},
		"bad traceparent drops both":       {"00-xyz", "vendor=opaque", "", ""},
		"all-zero trace id drops both":     {"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "vendor=opaque", "", ""},
	}
}

func TestDecode_traceContext(t *testing.T) {
	t.Parallel()
	for name, tc := range traceCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]any{
				"specversion": "1.0", "id": "tr", "source": "/t", "type": events.TypeRequested,
				"traceparent": tc.parent, "tracestate": tc.state,
				"data": map[string]any{"server_id": serverID, "target": map[string]any{"public_pool": true}},
			}
			body, err := json.Marshal(env)
			if err != nil {
				t.Fatal(err)
			}
			p, err := events.Decode(nil, body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			want := [2]string{tc.wantParent, tc.wantState}
			if diff := cmp.Diff(want, [2]string{p.TraceParent, p.TraceState}); diff != "" {
				t.Errorf("placement trace context (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, [2]string{p.Origin().TraceParent, p.Origin().TraceState}); diff != "" {
				t.Errorf("origin trace context (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConstructors_traceContext(t *testing.T) {
	t.Parallel()
	for name, tc := range traceCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := origin()
			o.TraceParent, o.TraceState = tc.parent, tc.state
			for kind, e := range outcomes(t, o) {
				ext := e.Extensions()
				got := [2]string{}
				got[0], _ = ext["traceparent"].(string)
				got[1], _ = ext["tracestate"].(string)
				if diff := cmp.Diff([2]string{tc.wantParent, tc.wantState}, got); diff != "" {
					t.Errorf("%s: trace extensions (-want +got):\n%s", kind, diff)
				}
				if _, ok := ext["tracestate"]; ok && tc.wantState == "" {
					t.Errorf("%s: an empty tracestate extension was set", kind)
				}
			}
		})
	}
}
