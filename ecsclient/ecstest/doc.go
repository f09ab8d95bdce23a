// Package ecstest is a faithful in-memory Huawei Cloud ECS for tests, the demo
// and benchmarks, in the spirit of net/http/httptest.
//
// The simulator serves the cold-migration subset of the ECS API on its real
// paths, with its real JSON shapes, status codes and error bodies:
//
//	POST /v1/{project_id}/cloudservers/{server_id}/migrate   MigrateServer
//	GET  /v1/{project_id}/jobs/{job_id}                      ShowJob
//	GET  /v1/{project_id}/cloudservers/{server_id}           ShowServer
//	GET  /v1/{project_id}/cloudservers/detail                ListServersDetails
//	POST /v1/{project_id}/cloudservers/action                os-stop / os-start
//
// ListServersDetails answers {"count": N, "servers": [...]} with the very
// server objects ShowServer renders. With server_id={id1},{id2},… (exact,
// case-sensitive match, as ShowServer's) every other parameter is ignored
// and there is one entry per id in the order asked; an id the project has
// no server with gets an entry with the id, a fault
// {"code":404,"message":…} and every other field an explicit null, as the
// API documents; an id that is not a UUID is refused with 400 Ecs.0005.
// Without server_id it lists the project's servers ordered by id, paged by
// limit (default 25, 1 to 1,000, as the API documents), marker (the last id
// of the previous page) and offset, which is a 1-based page number as in
// the API (0 means 1); count is then the number of servers that match, not
// the page's length. The filters status and name are simulated. The request
// log records how many ids each list asked for ([Request.IDs],
// [Simulator.MaxListIDsSeen]).
//
// Every request must be authenticated as the API Gateway would: an
// SDK-HMAC-SHA256 signature checked by an independent verifier against the
// client's own SignedHeaders list (unknown access keys, bad signatures, a
// missing X-Sdk-Date and clock skew over 15 minutes are answered with 401
// APIGW.0301), temporary credentials with X-Security-Token, or a configured
// X-Auth-Token. Every response carries an X-Request-Id header.
//
// The model holds projects with servers and dedicated hosts (DeH) that have
// capacity. A migration creates a job that goes INIT, RUNNING, then SUCCESS or
// FAIL on a [Clock] the test controls (see [ManualClock]); meanwhile the server
// shows status RESIZE with a resize_* task state, and ends SHUTOFF on its new
// host with the capacity moved. Finished jobs vanish after a retention period
// (a day by default), after which ShowJob answers Common.0011 as for a job that
// never existed. The API's constraints are enforced: only a stopped server
// (Ecs.0100), only pay-per-use, not locked (Ecs.0605), not to the DeH it is
// already on (Ecs.0221), unknown servers (Ecs.0114), and a target without room
// (a FAIL job with a NUMA-style fail_reason, or Ecs.0319 per host).
//
// Faults are scripted per operation ([Simulator.InjectNext],
// [Simulator.InjectRandom]) from a seeded PRNG: throttling (429 APIGW.0308,
// 429 Common.1503, 202 Common.0024), 5xx answers, latency in wall time,
// malformed and truncated bodies, connection resets and "applied but the
// response is lost". A gateway-style per-project rate limit, a request log and
// counters ([Simulator.MigrateCalls], [Simulator.StopCalls],
// [Simulator.StartCalls]) let tests assert what the cloud saw.
//
// Tests use [NewServer], which listens on 127.0.0.1, accepts a generated
// credential, hands out a ready [ecsclient.Client] and stops when the test
// ends; its model clock is a [ManualClock] that moves with [Server.Advance]:
//
//	srv := ecstest.NewServer(t, ecstest.WithJobTimings(ecstest.JobTimings{Migrating: time.Minute}))
//	deh := srv.AddDedicatedHost(ecstest.HostSpec{VCPUs: 16})
//	vm := srv.AddServer(ecstest.ServerSpec{VCPUs: 4})
//	srv.InjectNext(ecstest.OpMigrateServer, 1, ecstest.ResponseLost())
//	_, err := srv.Client().MigrateServer(ctx, srv.ProjectID(), vm, ecsclient.Target{DedicatedHostID: deh})
//	// err matches ecsclient.ErrOutcomeUnknown, yet srv.Migrations(vm) == 1
//	srv.Advance(2 * time.Minute)
//
// The standalone command cmd/ecssim serves a [Simulator] built by
// [NewSimulator] from a JSON seed file ([ParseSeed]) with wall clocks.
//
// Where the public documentation is silent, the simulator makes a documented
// choice: the job_type of a cold migration is "migrateServer" (batch power
// jobs "batchStopServers"/"batchStartServers" with one sub-job per server); a
// target DeH that does not exist, a server that is not pay-per-use, and a
// move from the public pool to the public pool are refused with 400
// Ecs.0005; a target DeH that is not available fails the job with Ecs.0319;
// an unknown project is refused with 400 Common.0018; an unfinished job has
// "end_time": ""; a batch naming an unknown server is refused whole (404
// Ecs.0114), while a locked or busy server fails only its own sub-job.
// ListServersDetails accepts up to [MaxListServerIDs] (1,000) ids in
// server_id, though the API only advises 100, and refuses more with 400
// Ecs.0005; several server_id parameters count as one list, an id repeated
// gets one entry (at its first place), and an empty element is a malformed
// id. A marker that names no server of the project is refused with 400
// Ecs.0005 (as OpenStack does); a marker wins over offset; a limit outside
// 1 to 1,000 or a negative offset is 400 Ecs.0005; the API's other filters
// (flavor, ip, ip_eq, tags, not-tags, reservation_id,
// enterprise_project_id) are refused with 400 Ecs.0005 rather than
// silently ignored, and status compares without regard to case.
package ecstest
