// Package config reads coldmove's configuration from the environment, at
// the edge: the binaries (functions/migrate, functions/poll, cmd/coldmove)
// are its only importers, and the libraries they configure (bus, ledger,
// ecspool, ecsclient) take plain values.
//
// A binary's configuration is a [Spec]: the list of variables it reads,
// each a [Var] naming the field its value goes to, and the checks of the
// values. The field's content before [Load] is its default, so defaults
// are written once, in the libraries' DefaultConfig functions and the
// binaries' own Default values. [Load] reads every variable with
// envconfig, one at a time, and reports every missing, malformed or
// out-of-range variable at once in an *[Error], never repeating a
// secret's value. [Usage] prints envconfig's table of exactly the
// variables of a Spec, with their defaults, for -h.
//
// [Shared] holds what every binary reads — the ECS API, NATS, the stream,
// the ledger and the log level — and lends out its variables in groups, so
// each binary lists only the groups it uses.
package config
