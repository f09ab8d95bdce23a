// Package ecsclient is a client for the few Huawei Cloud ECS APIs coldmove
// needs: MigrateServer, ShowJob, ShowServer and the batch stop/start actions.
package ecsclient
