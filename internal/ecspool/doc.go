// Package ecspool turns the ECS configuration into ready
// [ecsclient.Client] values, one per region, built on first use and reused
// for the life of the process (a warm Lambda reuses them too). It is the
// one way both functions and the CLI build their clients.
//
// Every client of a pool spends from one budget of Config.Rate requests
// per second (COLDMOVE_API_RATE), so that the process stays below the API
// gateway's quota instead of discovering it by being throttled, and at
// most [MaxRegions] clients are kept.
//
// A request may name a region other than the default; the client for it
// signs with the same credentials and talks to
// https://ecs.{region}.myhuaweicloud.com, unless Config.Endpoint sends every
// region to one endpoint (the simulator, a proxy).
package ecspool
