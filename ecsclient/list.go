package ecsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coldmove/coldmove/ids"
)

// MaxListIDs is the most server ids one [Client.ListServersDetails] call
// asks for: the API advises at most 100, to keep the URI short.
const MaxListIDs = 100

// Presence is what a ListServersDetails answer says about one server id.
type Presence int

// The presences. The zero value claims nothing.
const (
	// ServerUnanswered: the answer has no entry for the id, so it says
	// nothing about the server. Ask again, e.g. with [Client.ShowServer].
	ServerUnanswered Presence = iota
	// ServerFound: the answer describes the server.
	ServerFound
	// ServerMissing: the answer says the project has no server with the id
	// (its entry carries the id, perhaps a fault, and nothing else).
	ServerMissing
)

// String returns "unanswered", "found" or "missing".
func (p Presence) String() string {
	switch p {
	case ServerUnanswered:
		return "unanswered"
	case ServerFound:
		return "found"
	case ServerMissing:
		return "missing"
	}
	return fmt.Sprintf("Presence(%d)", int(p))
}

// ServerLookup is what a [Client.ListServersDetails] answer says about one
// of the server ids asked for.
type ServerLookup struct {
	// ID is the server id as asked.
	ID string
	// Presence tells whether the answer described the server, said it does
	// not exist, or said nothing about it.
	Presence Presence
	// Server is the server as the answer describes it; nil unless Presence
	// is [ServerFound].
	Server *Server
}

// ListServersDetails reads up to [MaxListIDs] servers of a project in one
// request and returns one [ServerLookup] per id, in the order asked. Each
// tells whether the server was found (with the same [Server] that
// [Client.ShowServer] gives), is missing (the API answers an id it does not
// know with an entry whose fields other than id and fault are null), or
// was not mentioned by the answer at all ([ServerUnanswered]). Entries for
// ids not asked for are ignored.
//
// The project and every id are checked before anything is sent; no ids,
// more than MaxListIDs, or an id listed twice (ids compare without regard
// to case) give an error matching [ErrInvalidID]. Like every read, the call
// is repeated on transient failures; an answer that is not a servers list,
// has two entries for one id, or has an entry for an asked id that cannot
// be read (a status of the wrong type, or no status yet other fields set)
// is unusable, and is treated as a transient failure too.
//
// API: GET /v1/{project_id}/cloudservers/detail?server_id={id1},{id2},…
func (c *Client) ListServersDetails(ctx context.Context, projectID string, serverIDs []string) ([]ServerLookup, error) {
	if err := ids.Project.Check(projectID); err != nil {
		return nil, fmt.Errorf("ecsclient: list servers: %w", err)
	}
	if err := checkServerIDs(serverIDs, MaxListIDs); err != nil {
		return nil, fmt.Errorf("ecsclient: list servers: %w", err)
	}
	raw := newListJSON(serverIDs)
	rq := &call{
		method: http.MethodGet, path: apiPath("v1", projectID, "cloudservers", "detail"), project: projectID, safe: true,
		query: url.Values{"server_id": {strings.Join(serverIDs, ",")}},
	}
	if err := c.do(ctx, rq, raw); err != nil {
		return nil, fmt.Errorf("ecsclient: list servers %s: %w", describeBatch(serverIDs), err)
	}
	return raw.result, nil
}

// listJSON is a ListServersDetails answer: decoded as raw entries, then
// checked against the ids asked for, which fills result.
type listJSON struct {
	Servers *[]json.RawMessage `json:"servers"`
	// typed holds the entries when the fast decode read every one.
	typed []serverFields

	want   []string       // the ids asked for
	index  map[string]int // lower-case id → its place in want
	result []ServerLookup // one per id in want, set by check
}

func newListJSON(want []string) *listJSON {
	l := &listJSON{want: want, index: make(map[string]int, len(want))}
	for i, id := range want {
		l.index[strings.ToLower(id)] = i
	}
	return l
}

// reset empties the answer, keeping what was asked.
func (l *listJSON) reset() { l.Servers, l.typed, l.result = nil, nil, nil }

// decode reads the answer in one typed pass when every entry reads as a
// server and every entry about an asked id has a status (the common
// answer); otherwise as raw entries, which check then reads one by one.
func (l *listJSON) decode(body []byte) error {
	var fast struct {
		Servers *[]serverFields `json:"servers"`
	}
	if json.Unmarshal(body, &fast) == nil && fast.Servers != nil && l.allHaveStatus(*fast.Servers) {
		l.typed = *fast.Servers
		return nil
	}
	return json.Unmarshal(body, l)
}

// allHaveStatus reports whether every entry about an asked id has a
// status: none is a missing server, whose other fields check must see.
func (l *listJSON) allHaveStatus(entries []serverFields) bool {
	for i := range entries {
		if _, asked := l.index[strings.ToLower(string(entries[i].ID))]; asked && entries[i].Status == "" {
			return false
		}
	}
	return true
}

// check classifies every entry that names an asked id, and refuses an
// answer without a servers list or with an entry it cannot read.
func (l *listJSON) check() error {
	if l.typed != nil {
		return l.checkTyped()
	}
	if l.Servers == nil {
		return errors.New("answer has no servers list")
	}
	res := make([]ServerLookup, len(l.want))
	for i, id := range l.want {
		res[i].ID = id
	}
	for _, entry := range *l.Servers {
		var w serverFields
		werr := json.Unmarshal(entry, &w)
		id := w.ID
		if werr != nil {
			// Which server is this about? Read the id alone, as serverFields
			// reads it (keys matched without regard to case, the last one
			// winning), so that both agree.
			var head struct {
				ID looseString `json:"id"`
			}
			if json.Unmarshal(entry, &head) != nil {
				continue // not an object with a readable id: about no asked id
			}
			id = head.ID
		}
		i, asked := l.index[strings.ToLower(string(id))]
		if !asked {
			continue
		}
		if res[i].Presence != ServerUnanswered {
			return fmt.Errorf("answer has two entries for server %s", l.want[i])
		}
		if werr != nil {
			return fmt.Errorf("entry for server %s: %w", l.want[i], werr)
		}
		if w.Status != "" {
			res[i].Presence, res[i].Server = ServerFound, w.server()
			continue
		}
		// No status: the server does not exist, provided the entry says
		// nothing else.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(entry, &fields); err != nil {
			return fmt.Errorf("entry for server %s: %w", l.want[i], err)
		}
		for k, v := range fields {
			if !strings.EqualFold(k, "id") && !strings.EqualFold(k, "fault") && !emptyJSON(v) {
				return fmt.Errorf("entry for server %s has no status, yet %q is set", l.want[i], clip(k))
			}
		}
		res[i].Presence = ServerMissing
	}
	l.result = res
	return nil
}

// checkTyped classifies the entries of the fast decode: each about an
// asked id has a status, so it is found.
func (l *listJSON) checkTyped() error {
	res := make([]ServerLookup, len(l.want))
	for i, id := range l.want {
		res[i].ID = id
	}
	for k := range l.typed {
		w := &l.typed[k]
		i, asked := l.index[strings.ToLower(string(w.ID))]
		if !asked {
			continue
		}
		if res[i].Presence != ServerUnanswered {
			return fmt.Errorf("answer has two entries for server %s", l.want[i])
		}
		res[i].Presence, res[i].Server = ServerFound, w.server()
	}
	l.result = res
	return nil
}

// emptyJSON reports whether a JSON value says nothing: absent, null, "",
// {} or [].
func emptyJSON(raw json.RawMessage) bool {
	b := bytes.TrimSpace(raw)
	switch {
	case len(b) == 0 || string(b) == "null":
		return true
	case b[0] == '"':
		var s string
		return json.Unmarshal(b, &s) == nil && s == ""
	case b[0] == '{' || b[0] == '[':
		return len(b) >= 2 && len(bytes.TrimSpace(b[1:len(b)-1])) == 0
	}
	return false
}
