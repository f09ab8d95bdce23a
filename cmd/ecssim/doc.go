// Command ecssim serves the ECS simulator (package ecstest) on a loopback
// address, so that people can try coldmove, and the demo can run, without a
// cloud account.
//
// Usage:
//
//	ecssim [-addr 127.0.0.1:0] [-seed inventory.json] [-log]
//
// The seed file is a JSON inventory with settings (see ecstest.ParseSeed);
// without one, the built-in example-seed.json is served. Unless the seed file
// names credentials, ecssim generates one for this run. Once listening it
// prints the environment to point coldmove at it:
//
//	export COLDMOVE_ECS_ENDPOINT=http://127.0.0.1:41234
//	export HUAWEICLOUD_SDK_AK=...
//	export HUAWEICLOUD_SDK_SK=...
//	export HUAWEICLOUD_SDK_PROJECT_ID=...
//
// These are the simulator's own throw-away credentials; never give it real
// ones. With -log every request is logged to stderr as a JSON line (method,
// path, status, error code; never a credential). It stops on SIGINT or
// SIGTERM.
package main
