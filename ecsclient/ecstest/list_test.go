package ecstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// listPath is the ListServersDetails path with a query.
func listPath(project string, q url.Values) string {
	p := "/v1/" + project + "/cloudservers/detail"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// byIDs is the query asking for ids.
func byIDs(ids ...string) url.Values {
	return url.Values{"server_id": {strings.Join(ids, ",")}}
}

// listAnswer is a ListServersDetails body decoded for inspection: each
// entry kept raw and as a map.
type listAnswer struct {
	count   int
	raw     []json.RawMessage
	entries []map[string]any
}

func (r rawResponse) list(t testing.TB) listAnswer {
	t.Helper()
	r.mustStatus(t, http.StatusOK)
	var w struct {
		Count   *int              `json:"count"`
		Servers []json.RawMessage `json:"servers"`
	}
	if err := json.Unmarshal(r.body, &w); err != nil || w.Count == nil || w.Servers == nil {
		t.Fatalf("not a list answer (%v): %s", err, r.body)
	}
	a := listAnswer{count: *w.Count, raw: w.Servers}
	for _, e := range w.Servers {
		a.entries = append(a.entries, rawResponse{body: e}.object(t))
	}
	return a
}

func (a listAnswer) ids() []string {
	var out []string
	for _, e := range a.entries {
		id, _ := e["id"].(string)
		out = append(out, id)
	}
	return out
}

// unknownID is a well-formed server id no test creates.
const unknownID = "0c1d2e3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5"

func TestListServersDetailsByID(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	deh := srv.AddDedicatedHost(HostSpec{})
	onDeH := srv.AddServer(ServerSpec{DedicatedHostID: deh, Name: "db-1"})
	inPool := srv.AddServer(ServerSpec{Status: StatusActive})
	elsewhere := srv.AddServer(ServerSpec{ProjectID: srv.AddProject()})

	tests := map[string]struct {
		query   url.Values
		wantIDs []string
		missing []string // entries that must be null-filled
	}{
		"found, in the order asked": {byIDs(inPool, onDeH), []string{inPool, onDeH}, nil},
		"unknown id":                {byIDs(unknownID), []string{unknownID}, []string{unknownID}},
		"another project's server":  {byIDs(elsewhere), []string{elsewhere}, []string{elsewhere}},
		"mixed":                     {byIDs(onDeH, unknownID, inPool), []string{onDeH, unknownID, inPool}, []string{unknownID}},
		"repeated id answered once": {byIDs(onDeH, inPool, onDeH), []string{onDeH, inPool}, nil},
		"several server_id parameters make one list": {
			url.Values{"server_id": {onDeH, inPool + "," + unknownID}}, []string{onDeH, inPool, unknownID}, []string{unknownID},
		},
		"other parameters are ignored": {
			url.Values{"server_id": {onDeH + "," + inPool}, "limit": {"1"}, "status": {"ACTIVE"}, "marker": {unknownID}, "tags": {"x"}},
			[]string{onDeH, inPool}, nil,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := c.do(http.MethodGet, listPath(p, tt.query), "").list(t)
			if diff := cmp.Diff(tt.wantIDs, a.ids()); diff != "" {
				t.Errorf("entry ids (-want +got):\n%s", diff)
			}
			if a.count != len(tt.wantIDs) {
				t.Errorf("count = %d, want %d", a.count, len(tt.wantIDs))
			}
			for i, e := range a.entries {
				id := tt.wantIDs[i]
				if slices.Contains(tt.missing, id) {
					checkMissingEntry(t, id, e)
					continue
				}
				// The same object ShowServer renders, byte for byte.
				show := c.do(http.MethodGet, serverPath(p, id), "").mustStatus(t, http.StatusOK).body
				want := append(append([]byte(`{"server":`), a.raw[i]...), '}')
				if !bytes.Equal(show, want) {
					t.Errorf("entry %d differs from ShowServer:\n list %s\n show %s", i, a.raw[i], show)
				}
			}
		})
	}
}

// checkMissingEntry checks the entry of an id the project has no server
// with: id and a 404 fault, every other field of a server present and null.
func checkMissingEntry(t *testing.T, id string, e map[string]any) {
	t.Helper()
	if e["id"] != id {
		t.Errorf("missing entry id = %v, want %s", e["id"], id)
	}
	fault, _ := e["fault"].(map[string]any)
	if fault["code"] != json.Number("404") || !strings.Contains(fmt.Sprint(fault["message"]), id) {
		t.Errorf("fault = %v, want code 404 naming the id", e["fault"])
	}
	for _, k := range []string{"name", "status", "OS-EXT-STS:vm_state", "OS-EXT-STS:task_state", "OS-EXT-STS:power_state",
		"os:scheduler_hints", "metadata", "flavor", "locked", "hostId", "addresses", "tags", "updated"} {
		v, ok := e[k]
		if !ok || v != nil {
			t.Errorf("field %s = %v (present %v), want an explicit null", k, v, ok)
		}
	}
	for k, v := range e {
		if k != "id" && k != "fault" && v != nil {
			t.Errorf("field %s = %v, want null", k, v)
		}
	}
}

func TestListServersDetailsRefusals(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	sv := srv.AddServer(ServerSpec{})
	many := func(n int) url.Values {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		}
		return byIDs(ids...)
	}
	tests := map[string]struct {
		query url.Values
		asked int // Request.IDs
	}{
		"malformed id":           {byIDs(sv, "not-a-uuid"), 2},
		"id with a path":         {byIDs("../" + sv[3:]), 1},
		"empty element":          {url.Values{"server_id": {sv + ",," + sv}}, 3},
		"empty server_id":        {url.Values{"server_id": {""}}, 1},
		"trailing comma":         {url.Values{"server_id": {sv + ","}}, 2},
		"1001 ids":               {many(1001), 1001},
		"limit 0":                {url.Values{"limit": {"0"}}, 0},
		"limit 1001":             {url.Values{"limit": {"1001"}}, 0},
		"limit not a number":     {url.Values{"limit": {"ten"}}, 0},
		"negative offset":        {url.Values{"offset": {"-1"}}, 0},
		"unknown marker":         {url.Values{"marker": {unknownID}}, 0},
		"filter not simulated":   {url.Values{"ip_eq": {"10.0.0.1"}}, 0},
		"tags are not simulated": {url.Values{"tags": {"env=prod"}}, 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := c.do(http.MethodGet, listPath(p, tt.query), "").mustStatus(t, http.StatusBadRequest)
			if code := r.errorCode(t); code != "Ecs.0005" {
				t.Errorf("code = %s, want Ecs.0005", code)
			}
			id := r.header.Get("X-Request-Id")
			for _, rec := range srv.Requests() {
				if rec.RequestID == id && (rec.IDs != tt.asked || rec.Op != OpListServersDetails || rec.Code != "Ecs.0005") {
					t.Errorf("log entry = %+v, want IDs %d", rec, tt.asked)
				}
			}
		})
	}

	t.Run("1000 ids are accepted", func(t *testing.T) {
		t.Parallel()
		a := c.do(http.MethodGet, listPath(p, many(1000)), "").list(t)
		if a.count != 1000 || len(a.entries) != 1000 {
			t.Errorf("count %d, %d entries; want 1000", a.count, len(a.entries))
		}
	})
}

func TestListServersDetailsPaging(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	var all, active []string
	for i := range 57 {
		spec := ServerSpec{}
		if i%4 == 0 {
			spec.Status = StatusActive
		}
		id := srv.AddServer(spec)
		all = append(all, id)
		if spec.Status == StatusActive {
			active = append(active, id)
		}
	}
	other := srv.AddProject()
	for range 5 {
		srv.AddServer(ServerSpec{ProjectID: other})
	}
	slices.Sort(all)
	slices.Sort(active)

	// walk pages through with marker, as a client does.
	walk := func(t *testing.T, q url.Values) (ids []string, pages int) {
		t.Helper()
		for pages = 1; pages < 100; pages++ {
			a := c.do(http.MethodGet, listPath(p, q), "").list(t)
			ids = append(ids, a.ids()...)
			if a.count < len(ids) {
				t.Errorf("count %d, yet %d servers listed", a.count, len(ids))
			}
			limit := DefaultListLimit
			if q.Has("limit") {
				fmt.Sscan(q.Get("limit"), &limit)
			}
			if len(a.entries) < limit {
				return ids, pages
			}
			q.Set("marker", ids[len(ids)-1])
		}
		t.Fatal("paging does not end")
		return nil, 0
	}
	tests := map[string]struct {
		query     url.Values
		want      []string
		wantPages int
	}{
		"default limit 25":       {url.Values{}, all, 3},
		"limit 10":               {url.Values{"limit": {"10"}}, all, 6},
		"limit 1":                {url.Values{"limit": {"1"}}, all, 58},
		"one page of 1000":       {url.Values{"limit": {"1000"}}, all, 1},
		"exactly the count":      {url.Values{"limit": {"57"}}, all, 2},
		"status filter, limit 4": {url.Values{"limit": {"4"}, "status": {"active"}}, active, 4},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, pages := walk(t, tt.query)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("servers listed, without loss or repeat (-want +got):\n%s", diff)
			}
			if pages != tt.wantPages {
				t.Errorf("%d pages, want %d", pages, tt.wantPages)
			}
		})
	}

	t.Run("offset is a page number", func(t *testing.T) {
		t.Parallel()
		var got []string
		for page := 1; page <= 7; page++ {
			q := url.Values{"limit": {"10"}, "offset": {fmt.Sprint(page)}}
			a := c.do(http.MethodGet, listPath(p, q), "").list(t)
			if a.count != len(all) {
				t.Errorf("page %d: count %d, want %d", page, a.count, len(all))
			}
			got = append(got, a.ids()...)
		}
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("pages 1..7 (-want +got):\n%s", diff)
		}
		zero := c.do(http.MethodGet, listPath(p, url.Values{"limit": {"10"}, "offset": {"0"}}), "").list(t)
		if diff := cmp.Diff(all[:10], zero.ids()); diff != "" {
			t.Errorf("offset 0 is page 1 (-want +got):\n%s", diff)
		}
		far := c.do(http.MethodGet, listPath(p, url.Values{"offset": {"9223372036854775807"}}), "").list(t)
		if len(far.entries) != 0 || far.count != len(all) {
			t.Errorf("a page past the end: %d entries, count %d", len(far.entries), far.count)
		}
	})

	t.Run("marker wins over offset", func(t *testing.T) {
		t.Parallel()
		q := url.Values{"limit": {"5"}, "offset": {"3"}, "marker": {all[9]}}
		got := c.do(http.MethodGet, listPath(p, q), "").list(t).ids()
		if diff := cmp.Diff(all[10:15], got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestListServersDetailsDuringMigration(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithJobTimings(JobTimings{Queued: time.Second, Migrating: time.Minute, Finishing: time.Minute}))
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	deh := srv.AddDedicatedHost(HostSpec{})
	moving := srv.AddServer(ServerSpec{})
	still := srv.AddServer(ServerSpec{})
	c.do(http.MethodPost, migratePath(p, moving), migrateBody(deh)).jobID(t)
	srv.Advance(2 * time.Second)

	a := c.do(http.MethodGet, listPath(p, byIDs(moving, still)), "").list(t)
	type state struct{ Status, Task any }
	var got []state
	for _, e := range a.entries {
		got = append(got, state{e["status"], e["OS-EXT-STS:task_state"]})
	}
	want := []state{{"RESIZE", "resize_migrating"}, {"SHUTOFF", nil}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if resize := c.do(http.MethodGet, listPath(p, url.Values{"status": {"RESIZE"}}), "").list(t).ids(); !slices.Equal(resize, []string{moving}) {
		t.Errorf("status=RESIZE lists %v, want [%s]", resize, moving)
	}
}

func TestListServersDetailsGateway(t *testing.T) {
	t.Parallel()
	gw := NewManualClock(time.Now())
	srv := NewServer(t, WithGatewayClock(gw), WithRateLimit(2, 2))
	c := newRawClient(t, srv)
	c.now = gw.Now
	p := srv.ProjectID()
	a, b := srv.AddServer(ServerSpec{}), srv.AddServer(ServerSpec{})

	statuses := []int{
		c.do(http.MethodGet, listPath(p, byIDs(a, b, unknownID)), "").status,
		c.do(http.MethodGet, listPath(p, url.Values{"limit": {"1"}}), "").status,
		c.do(http.MethodGet, listPath(p, byIDs(a)), "").status, // over the budget
	}
	if diff := cmp.Diff([]int{200, 200, 429}, statuses); diff != "" {
		t.Errorf("statuses within one instant (-want +got):\n%s", diff)
	}
	gw.Advance(time.Second)
	srv.InjectNext(OpListServersDetails, 1, ServerError(503))
	srv.InjectNext(OpShowServer, 1, ServerError(500)) // not this operation's fault
	if r := c.do(http.MethodGet, listPath(p, byIDs(b, a)), ""); r.status != 503 {
		t.Errorf("injected fault: status %d", r.status)
	}
	c.do(http.MethodGet, listPath(p, byIDs(b)), "").list(t)

	type entry struct {
		Op       Op
		IDs      int
		ServerID string
		Status   int
		Fault    string
	}
	var got []entry
	for _, r := range srv.Requests() {
		got = append(got, entry{r.Op, r.IDs, r.ServerID, r.Status, r.Fault})
	}
	want := []entry{
		{OpListServersDetails, 3, a, 200, ""},
		{OpListServersDetails, 0, "", 200, ""},
		{OpListServersDetails, 1, a, 429, ""},
		{OpListServersDetails, 2, b, 503, "server-error-503"},
		{OpListServersDetails, 1, b, 200, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request log (-want +got):\n%s", diff)
	}
	if n := srv.Calls(OpListServersDetails); n != 5 {
		t.Errorf("Calls = %d, want 5", n)
	}
	if n := srv.Calls(OpShowServer); n != 0 {
		t.Errorf("ShowServer calls = %d, want 0", n)
	}
	if n := srv.MaxListIDsSeen(); n != 3 {
		t.Errorf("MaxListIDsSeen = %d, want 3", n)
	}
}

func TestListServersDetailsUnauthenticated(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	req := c.newRequest(http.MethodGet, listPath(srv.ProjectID(), byIDs(unknownID)), "")
	r := c.send(req).mustStatus(t, http.StatusUnauthorized)
	if code := r.errorCode(t); code != "APIGW.0301" {
		t.Errorf("code = %s", code)
	}
	if srv.Calls(OpListServersDetails) != 0 || srv.MaxListIDsSeen() != 0 {
		t.Errorf("an unauthenticated request was counted")
	}
}

func FuzzParseListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "server_id=" + unknownID, "server_id=" + unknownID + "%2C" + unknownID, "server_id=", "server_id=a,,b",
		"limit=10&marker=" + unknownID, "offset=9223372036854775807", "limit=-1", "%zz", "status=RESIZE&name=x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, aerr := parseListQuery(raw)
		if aerr != nil {
			if aerr.status != http.StatusBadRequest || aerr.code != codeInvalidParams {
				t.Fatalf("refusal %d %s, want 400 Ecs.0005", aerr.status, aerr.code)
			}
			return
		}
		if q.ids != nil {
			if len(q.ids) == 0 || len(q.ids) > q.asked || q.asked > MaxListServerIDs {
				t.Fatalf("%d ids of %d asked", len(q.ids), q.asked)
			}
			for _, id := range q.ids {
				if !isUUID(id) {
					t.Fatalf("accepted id %q", id)
				}
			}
			return
		}
		if q.limit < 1 || q.limit > MaxListLimit || q.page < 0 {
			t.Fatalf("accepted limit %d, page %d", q.limit, q.page)
		}
	})
}
