package ecstest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// route is a request routed to an operation.
type route struct {
	op        Op
	projectID string
	id        string // server id or job id; "" for the batch action and lists
	// list is the parsed query of a ListServersDetails request, listErr the
	// refusal of a query that does not parse; both are set in ServeHTTP.
	list    listQuery
	listErr *apiError
}

// parseRoute maps a method and decoded path to an operation. The batch
// action's operation is settled by its body in routeAction.
func parseRoute(method, path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/")
	if !ok {
		return route{}, false
	}
	projectID, rest, ok := strings.Cut(rest, "/")
	if !ok || projectID == "" {
		return route{}, false
	}
	if jobID, ok := strings.CutPrefix(rest, "jobs/"); ok {
		if method != http.MethodGet || jobID == "" || strings.Contains(jobID, "/") {
			return route{}, false
		}
		return route{op: OpShowJob, projectID: projectID, id: jobID}, true
	}
	sub, ok := strings.CutPrefix(rest, "cloudservers/")
	if !ok || sub == "" {
		return route{}, false
	}
	serverID, tail, hasTail := strings.Cut(sub, "/")
	switch {
	case method == http.MethodPost && sub == "action":
		return route{op: OpBatchStopServers, projectID: projectID}, true
	case method == http.MethodGet && sub == "detail":
		return route{op: OpListServersDetails, projectID: projectID}, true
	case method == http.MethodGet && !hasTail:
		return route{op: OpShowServer, projectID: projectID, id: serverID}, true
	case method == http.MethodPost && tail == "migrate" && serverID != "":
		return route{op: OpMigrateServer, projectID: projectID, id: serverID}, true
	}
	return route{}, false
}

// actionOp tells os-start from os-stop by the body's top-level key, so that
// fault scripts and counters see the right operation even for a body that
// will be refused.
func actionOp(body []byte) Op {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) == nil {
		if _, ok := top["os-start"]; ok {
			return OpBatchStartServers
		}
	}
	if bytes.Contains(body, []byte(`"os-start"`)) && !bytes.Contains(body, []byte(`"os-stop"`)) {
		return OpBatchStartServers
	}
	return OpBatchStopServers
}
