// Package config reads a function's configuration from the environment
// with envconfig and reports every missing or malformed variable at once,
// instead of stopping at the first as envconfig.Process does.
//
// A specification is a struct whose fields carry envconfig's tags
// (envconfig, default, required, desc, split_words, ignored); anonymous
// embedded structs are read as part of it, which lets packages such as bus
// contribute their own variables. A field tagged secret:"true" never has
// its value repeated in an error.
package config
