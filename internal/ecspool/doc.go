// Package ecspool turns the functions' ECS configuration into ready
// [ecsclient.Client] values, one per region, built on first use and reused
// for the life of the process (a warm Lambda reuses them too).
//
// A request may name a region other than the default; the client for it
// signs with the same credentials and talks to
// https://ecs.{region}.myhuaweicloud.com, unless COLDMOVE_ECS_ENDPOINT
// sends every region to one endpoint (the simulator, a proxy).
package ecspool
