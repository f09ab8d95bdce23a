package ecstest

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ListServersDetails: GET /v1/{project_id}/cloudservers/detail, in its two
// modes. With server_id it answers one entry per id; without, it pages
// through the project's servers.

// Bounds of ListServersDetails. The API documents the limit (default 25, at
// most 1,000) and only advises at most 100 server ids per call; the bound on
// ids is the simulator's choice.
const (
	// MaxListServerIDs is the most ids one server_id list may name; longer
	// lists are refused with 400 Ecs.0005.
	MaxListServerIDs = 1000
	// DefaultListLimit is the page size when limit is absent.
	DefaultListLimit = 25
	// MaxListLimit is the largest limit accepted.
	MaxListLimit = 1000
)

// notSimulatedFilters are filters of the real API that the simulator does
// not implement; it refuses them rather than answer as if they matched all.
var notSimulatedFilters = []string{"flavor", "ip", "ip_eq", "tags", "not-tags", "reservation_id", "enterprise_project_id"}

// listQuery is the parsed query of a ListServersDetails request.
type listQuery struct {
	// ids is the server_id list, each id once in the order first asked;
	// non-nil selects the by-id mode.
	ids []string
	// asked is how many ids server_id named, as sent.
	asked int

	limit  int    // page size
	page   int    // offset: a 1-based page number; 0 means 1
	marker string // the last server id of the previous page
	status string // exact status, compared without regard to case
	name   string // substring of the name
}

// parseListQuery reads the query of a ListServersDetails request. It
// returns the refusal (400 Ecs.0005) of a query that breaks the API's
// rules, together with what it could read (so the request log can show how
// many ids were asked for).
func parseListQuery(rawQuery string) (listQuery, *apiError) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return listQuery{}, invalidParams("the query string cannot be parsed")
	}
	if vs, ok := q["server_id"]; ok {
		return parseServerIDs(vs)
	}
	lq := listQuery{limit: DefaultListLimit}
	for _, f := range notSimulatedFilters {
		if q.Has(f) {
			return lq, invalidParams("the filter %s is not simulated", f)
		}
	}
	if v := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			return lq, invalidParams("limit %q must be an integer from 1 to %d", clipText(v), MaxListLimit)
		}
		lq.limit = n
	}
	if v := q.Get("offset"); q.Has("offset") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, invalidParams("offset %q must be an integer of at least 0", clipText(v))
		}
		lq.page = n
	}
	lq.marker, lq.status, lq.name = q.Get("marker"), q.Get("status"), q.Get("name")
	return lq, nil
}

// parseServerIDs reads the server_id values: comma-separated UUIDs, several
// server_id parameters counting as one list.
func parseServerIDs(values []string) (listQuery, *apiError) {
	var lq listQuery
	var all []string
	for _, v := range values {
		if v == "" {
			all = append(all, "")
			continue
		}
		all = append(all, strings.Split(v, ",")...)
	}
	lq.asked = len(all)
	if len(all) > MaxListServerIDs {
		return lq, invalidParams("server_id names %d servers; at most %d are accepted", len(all), MaxListServerIDs)
	}
	seen := make(map[string]bool, len(all))
	lq.ids = make([]string, 0, len(all))
	for _, id := range all {
		if !isUUID(id) {
			return listQuery{asked: lq.asked}, invalidParams("server_id %q is not a UUID", clipText(id))
		}
		if !seen[id] {
			seen[id] = true
			lq.ids = append(lq.ids, id)
		}
	}
	return lq, nil
}

// listServers answers ListServersDetails for a project at model time now.
func (s *Simulator) listServers(projectID string, q listQuery, now time.Time) ([]byte, *apiError) {
	s.catchUp(now)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if q.ids != nil {
		entries := make([][]byte, len(q.ids))
		for i, id := range q.ids {
			if sv, ok := s.servers[id]; ok && sv.projectID == projectID {
				entries[i] = sv.detail
			} else {
				entries[i] = missingDetail(id)
			}
		}
		return listBody(len(entries), entries), nil
	}

	var match []*server
	for _, sv := range s.servers {
		if sv.projectID == projectID &&
			(q.status == "" || strings.EqualFold(sv.status, q.status)) &&
			strings.Contains(sv.name, q.name) {
			match = append(match, sv)
		}
	}
	slices.SortFunc(match, func(a, b *server) int { return strings.Compare(a.id, b.id) })
	start := 0
	switch {
	case q.marker != "":
		if m, ok := s.servers[q.marker]; !ok || m.projectID != projectID {
			return nil, invalidParams("marker [%s] not found", clipText(q.marker))
		}
		start, _ = slices.BinarySearchFunc(match, q.marker, func(sv *server, id string) int {
			if sv.id <= id {
				return -1
			}
			return 1
		})
	case q.page > 1:
		start = len(match)
		if q.page-1 <= len(match)/q.limit {
			start = min((q.page-1)*q.limit, len(match))
		}
	}
	page := match[start:min(start+q.limit, len(match))]
	entries := make([][]byte, len(page))
	for i, sv := range page {
		entries[i] = sv.detail
	}
	return listBody(len(match), entries), nil
}

// listBody renders {"count": count, "servers": [entries…]}.
func listBody(count int, entries [][]byte) []byte {
	n := 32
	for _, e := range entries {
		n += len(e) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, `,"servers":[`...)
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return append(b, "]}"...)
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hexadecimal form, the
// API's own rule for server ids (written here, not borrowed from the client,
// so that the two can disagree in a test).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// clipText shortens untrusted text quoted in an error message.
func clipText(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
