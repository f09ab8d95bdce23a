// Package ids owns the syntax of every identifier coldmove takes from
// outside: project ids, server ids, dedicated host ids, job ids and region
// names. Each [Kind] has exactly one rule, and the event decoder, the ECS
// client, the ledger and the configuration all check against it, so an id
// one of them accepts is never refused by another further down the line.
//
// The rules are deliberately strict: an id that passes is safe in a URL path
// segment, a NATS subject token and a JetStream key-value key without
// escaping.
package ids
